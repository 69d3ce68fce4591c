# ruff: noqa: E501
"""Benchmark: the LLM scan against DuckDB's own floor on the same JSONL file.

    python bench/llm_logs.py                 # 1,000,000 requests (~300 MB)
    python bench/llm_logs.py --requests 5000000
    python bench/llm_logs.py --runs 3         # median of 3 runs of each (this machine is noisy)

Generates OpenAI-style request logs ({timestamp, metadata, request, response: chat.completion})
into a temp dir, then times in separate processes:
  (a) the floor: DuckDB reading the file and summing tokens by model and team;
  (b) `aifinops scan --llm-logs FILE --format json` (parse, price, every analysis).
Prints both times, their ratio, each process's peak RSS and CPU seconds (user + system: on a
busy machine wall time swings with the other load, CPU time much less).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

FLOOR = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET memory_limit='600MB'")
rows = con.execute('''
SELECT response.model, metadata.team, count(*), sum(response.usage.prompt_tokens),
       sum(response.usage.completion_tokens)
FROM read_json(?, format='newline_delimited', columns={
  'metadata': 'STRUCT(team VARCHAR, app VARCHAR)',
  'response': 'STRUCT(model VARCHAR, usage STRUCT(prompt_tokens BIGINT, completion_tokens BIGINT))'})
GROUP BY ALL''', [sys.argv[1]]).fetchall()
print(len(rows), "groups")
"""

MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3"]
TEAMS = ["search", "support", "growth", "research", "data", None]
APPS = ["chat", "triage", "email", "agent", "ingest"]


def generate(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    prompts = [f"prompt-{i}" for i in range(5000)]
    with path.open("w", encoding="utf-8") as fh:
        buf = []
        for i in range(n):
            t = start + timedelta(seconds=i * 2_592_000 / n)
            model = MODELS[i % 5]
            team = TEAMS[rng.randrange(6)]
            pin = rng.randint(50, 4000)
            pout = rng.randint(5, 800)
            meta = {"app": APPS[i % 5], "session_id": f"s{i // 8}"}
            if team:
                meta["team"] = team
            rec = {"timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "metadata": meta,
                   "request": {"model": model, "messages": [{"role": "user", "content": rng.choice(prompts)}]},
                   "response": {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": int(t.timestamp()),
                                "model": model, "usage": {"prompt_tokens": pin, "completion_tokens": pout,
                                                          "total_tokens": pin + pout,
                                                          "prompt_tokens_details": {"cached_tokens": 0}}}}
            buf.append(json.dumps(rec, separators=(",", ":")))
            if len(buf) == 10000:
                fh.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            fh.write("\n".join(buf) + "\n")


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS in MiB (GNU time -v when present), CPU seconds and the stderr tail."""
    time_bin = Path("/usr/bin/time")
    full = [str(time_bin), "-v", *cmd] if time_bin.exists() else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = 0.0
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1]) / 1024
    if not rss:
        rss = after.ru_maxrss / 1024
    if proc.returncode not in (0, 1):
        print(proc.stderr[-2000:], file=sys.stderr)
    return wall, rss, cpu, proc.stderr[-300:]


def median_run(runs: list[tuple[float, float, float, str]]) -> tuple[float, float, float, str]:
    """The run with the median wall time (its own RSS and CPU, not a mix of runs)."""
    return sorted(runs, key=lambda r: r[0])[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--keep", help="write the file here and keep it")
    ap.add_argument("--runs", type=int, default=1, help="run (a) and (b) this many times; print medians")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="aifinops-bench-") as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "requests.jsonl"
        t0 = time.perf_counter()
        if not path.exists():
            generate(path, args.requests)
        size = path.stat().st_size / 1e6
        print(f"{args.requests:,} requests, {size:,.0f} MB of JSONL (generated in {time.perf_counter() - t0:.1f} s)")
        out = Path(tmp) / "report.json"
        floor_runs, scan_runs = [], []
        for _ in range(max(1, args.runs)):
            floor_runs.append(timed([sys.executable, "-c", FLOOR, str(path)]))
            scan_runs.append(timed([sys.executable, "-m", "aifinops_cli", "scan", "--llm-logs", str(path),
                                    "--format", "json", "--output", str(out)]))
        a, a_rss, a_cpu, _ = median_run(floor_runs)
        b, b_rss, b_cpu, err = median_run(scan_runs)
        if args.runs > 1:
            print("runs (wall s):  floor " + ", ".join(f"{r[0]:.2f}" for r in floor_runs)
                  + "   scan " + ", ".join(f"{r[0]:.2f}" for r in scan_runs))
        report = json.loads(out.read_text()) if out.exists() else {}
        llm = (report.get("analysis") or {}).get("llm", {}).get("summary", {})
        print(f"(a) DuckDB floor (read + tokens by model, team): {a:7.2f} s   peak RSS {a_rss:7.0f} MiB   "
              f"CPU {a_cpu:6.2f} s")
        print(f"(b) aifinops scan --llm-logs --format json:      {b:7.2f} s   peak RSS {b_rss:7.0f} MiB   "
              f"CPU {b_cpu:6.2f} s")
        print(f"ratio b/a: {b / a:.2f}x   ({args.requests / b:,.0f} requests/s); CPU ratio {b_cpu / a_cpu:.2f}x")
        print(f"scan saw {llm.get('requests')} requests, cost ${llm.get('computed cost USD')}, "
              f"{len(report.get('findings', []))} findings")
        if not report:
            print("scan produced no report:", err)


if __name__ == "__main__":
    main()
