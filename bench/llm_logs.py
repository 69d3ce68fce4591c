# ruff: noqa: E501
"""Benchmark: the LLM scan against DuckDB's own floor on the same JSONL file.

    python bench/llm_logs.py                 # 1,000,000 requests (~300 MB)
    python bench/llm_logs.py --requests 5000000
    python bench/llm_logs.py --runs 3         # median of 3 runs of each (this machine is noisy)
    python bench/llm_logs.py --case array --mb 1000   # one pretty-printed JSON array of ~1 GB
    python bench/llm_logs.py --case otlp --mb 200     # one OTLP JSON document of ~200 MB

Generates OpenAI-style request logs ({timestamp, metadata, request, response: chat.completion})
into a temp dir, then times in separate processes:
  (a) the floor: DuckDB reading the file and summing tokens by model and team;
  (b) `aifinops scan --llm-logs FILE --format json` (parse, price, every analysis);
  (c) (jsonl) the same scan with `--revenue plans.csv`: the unit-economics section too, for the
      `--customers` customers the records are spread over (issue 16: under 2x (b)).
Prints both times, their ratio, each process's peak RSS and CPU seconds (user + system: on a
busy machine wall time swings with the other load, CPU time much less).

`--case array` writes such records as one pretty-printed JSON array (what LiteLLM's /spend/logs
and most exports return) and `--case otlp` one OTLP ExportTraceServiceRequest document
(`{"resourceSpans": [...]}`, 50 GenAI spans per resource) of about `--mb` MB: both must stream,
so the figure to watch is the scan's peak RSS (under 1 GiB).
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

FLOOR_ARRAY = FLOOR.replace("format='newline_delimited'", "format='array'")
FLOOR_OTLP = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET memory_limit='600MB'")
rows = con.execute('''
WITH s AS (SELECT unnest(unnest(scopeSpans).spans) AS span FROM read_json(?, format='array', columns={
  'scopeSpans': 'STRUCT(spans STRUCT(attributes STRUCT(key VARCHAR, value STRUCT(stringValue VARCHAR, intValue VARCHAR))[])[])[]'}))
SELECT count(*), sum(len(span.attributes)) FROM s''', [sys.argv[1]]).fetchall()
print(rows)
"""

MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3"]
TEAMS = ["search", "support", "growth", "research", "data", None]
APPS = ["chat", "triage", "email", "agent", "ingest"]


def generate(path: Path, n: int, seed: int = 7, customers: int = 10_000) -> None:
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
            meta = {
                "app": APPS[i % 5],
                "session_id": f"s{i // 8}",
                "customer": f"cust-{(i // 8) % customers}",
            }
            if team:
                meta["team"] = team
            rec = {
                "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "metadata": meta,
                "request": {"model": model, "messages": [{"role": "user", "content": rng.choice(prompts)}]},
                "response": {
                    "id": f"chatcmpl-{i}",
                    "object": "chat.completion",
                    "created": int(t.timestamp()),
                    "model": model,
                    "usage": {
                        "prompt_tokens": pin,
                        "completion_tokens": pout,
                        "total_tokens": pin + pout,
                        "prompt_tokens_details": {"cached_tokens": 0},
                    },
                },
            }
            buf.append(json.dumps(rec, separators=(",", ":")))
            if len(buf) == 10000:
                fh.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            fh.write("\n".join(buf) + "\n")


def record(i: int, n: int, rng: random.Random, prompts: list[str], start: datetime) -> dict:
    t = start + timedelta(seconds=i * 2_592_000 / n)
    model = MODELS[i % 5]
    team = TEAMS[rng.randrange(6)]
    pin, pout = rng.randint(50, 4000), rng.randint(5, 800)
    meta = {"app": APPS[i % 5], "session_id": f"s{i // 8}"}
    if team:
        meta["team"] = team
    return {
        "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "metadata": meta,
        "request": {"model": model, "messages": [{"role": "user", "content": rng.choice(prompts)}]},
        "response": {
            "id": f"chatcmpl-{i}",
            "object": "chat.completion",
            "created": int(t.timestamp()),
            "model": model,
            "usage": {"prompt_tokens": pin, "completion_tokens": pout, "total_tokens": pin + pout},
        },
    }


def generate_array(path: Path, mb: int, seed: int = 7) -> int:
    """A pretty-printed JSON array of about `mb` MB; returns the number of records."""
    rng = random.Random(seed)
    prompts = [f"prompt-{i}" for i in range(5000)]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    per = len(json.dumps(record(0, 1, rng, prompts, start), indent=2)) + 40
    n = mb * 1_000_000 // per
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i in range(n):
            text = json.dumps(record(i, n, rng, prompts, start), indent=2)
            fh.write("  " + text.replace("\n", "\n  ") + (",\n" if i < n - 1 else "\n"))
        fh.write("]\n")
    return n


def generate_otlp(path: Path, mb: int, seed: int = 7) -> int:
    """One OTLP JSON document of about `mb` MB (50 chat spans per resource); returns the spans."""
    rng = random.Random(seed)
    start_ns = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp()) * 10**9

    def a(k: str, v: object) -> dict:
        return {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}

    def resource(r: int) -> str:
        spans = []
        for j in range(50):
            i = r * 50 + j
            t = start_ns + i * 6_000_000_000
            spans.append(
                {
                    "traceId": f"{r:032x}",
                    "spanId": f"{i:016x}",
                    "name": "chat",
                    "kind": 3,
                    "startTimeUnixNano": str(t),
                    "endTimeUnixNano": str(t + 800_000_000),
                    "attributes": [
                        a("gen_ai.operation.name", "chat"),
                        a("gen_ai.provider.name", "openai"),
                        a("gen_ai.request.model", MODELS[i % 5]),
                        a("gen_ai.usage.input_tokens", rng.randint(50, 4000)),
                        a("gen_ai.usage.output_tokens", rng.randint(5, 800)),
                        a("gen_ai.conversation.id", f"c{i // 8}"),
                    ],
                    "status": {"code": 1},
                }
            )
        return json.dumps(
            {
                "resource": {
                    "attributes": [a("service.name", APPS[r % 5]), a("team", TEAMS[r % 5] or "none")]
                },
                "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
            }
        )

    per = len(resource(0)) + 2
    n = max(1, mb * 1_000_000 // per)
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"resourceSpans": [\n')
        for r in range(n):
            fh.write(resource(r) + (",\n" if r < n - 1 else "\n"))
        fh.write("]}\n")
    return n * 50


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


def write_plans(path: Path, customers: int) -> None:
    """A plans CSV for the generated customers: three plans, by customer number."""
    plans = (("starter", 49.0, 1000), ("growth", 299.0, 10000), ("enterprise", 1999.0, 100000))
    with path.open("w", encoding="utf-8") as fh:
        fh.write("customer,plan,monthly_revenue,included_allowance\n")
        for c in range(customers):
            name, price, allowance = plans[c % 3]
            fh.write(f"cust-{c},{name},{price},{allowance}\n")


def median_run(runs: list[tuple[float, float, float, str]]) -> tuple[float, float, float, str]:
    """The run with the median wall time (its own RSS and CPU, not a mix of runs)."""
    return sorted(runs, key=lambda r: r[0])[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--keep", help="write the file here and keep it")
    ap.add_argument("--runs", type=int, default=1, help="run (a) and (b) this many times; print medians")
    ap.add_argument("--case", choices=("jsonl", "array", "otlp"), default="jsonl")
    ap.add_argument("--mb", type=int, default=0, help="array/otlp: file size in MB (default 1000 / 200)")
    ap.add_argument("--customers", type=int, default=10_000, help="jsonl: customers the requests belong to")
    ap.add_argument("--no-economics", action="store_true", help="skip (c), the scan with --revenue")
    args = ap.parse_args()
    floor = {"jsonl": FLOOR, "array": FLOOR_ARRAY, "otlp": FLOOR_OTLP}[args.case]
    with tempfile.TemporaryDirectory(prefix="aifinops-bench-") as tmp:
        suffix = ".jsonl" if args.case == "jsonl" else ".json"
        path = Path(args.keep) if args.keep else Path(tmp) / f"requests{suffix}"
        t0 = time.perf_counter()
        if path.exists():
            pass
        elif args.case == "array":
            args.requests = generate_array(path, args.mb or 1000)
        elif args.case == "otlp":
            args.requests = generate_otlp(path, args.mb or 200)
        else:
            generate(path, args.requests, customers=args.customers)
        size = path.stat().st_size / 1e6
        print(
            f"{args.case}: {args.requests:,} requests, {size:,.0f} MB (generated in {time.perf_counter() - t0:.1f} s)"
        )
        floor_input = path
        if args.case == "otlp":  # DuckDB alone cannot stream one big object: give it the list
            from aifinops_cli.scanners.llm.inputs import extract_list

            floor_input = Path(tmp) / "resource_spans.json"
            extract_list(str(path), "resourceSpans", floor_input)
        out = Path(tmp) / "report.json"
        econ_out = Path(tmp) / "report-economics.json"
        plans = Path(tmp) / "plans.csv"
        write_plans(plans, args.customers)
        economics = args.case == "jsonl" and not args.no_economics
        floor_runs, scan_runs, econ_runs = [], [], []
        for _ in range(max(1, args.runs)):
            floor_runs.append(timed([sys.executable, "-c", floor, str(floor_input)]))
            scan_runs.append(
                timed(
                    [
                        sys.executable,
                        "-m",
                        "aifinops_cli",
                        "scan",
                        "--llm-logs",
                        str(path),
                        "--format",
                        "json",
                        "--output",
                        str(out),
                    ]
                )
            )
            if economics:
                econ_runs.append(
                    timed(
                        [sys.executable, "-m", "aifinops_cli", "scan", "--llm-logs", str(path), "--revenue",
                         str(plans), "--format", "json", "--output", str(econ_out)]
                    )
                )  # fmt: skip
        a, a_rss, a_cpu, _ = median_run(floor_runs)
        b, b_rss, b_cpu, err = median_run(scan_runs)
        if args.runs > 1:
            print(
                "runs (wall s):  floor "
                + ", ".join(f"{r[0]:.2f}" for r in floor_runs)
                + "   scan "
                + ", ".join(f"{r[0]:.2f}" for r in scan_runs)
            )
        report = json.loads(out.read_text()) if out.exists() else {}
        llm = (report.get("analysis") or {}).get("llm", {}).get("summary", {})
        print(
            f"(a) DuckDB floor (read + tokens by model, team): {a:7.2f} s   peak RSS {a_rss:7.0f} MiB   "
            f"CPU {a_cpu:6.2f} s"
        )
        print(
            f"(b) aifinops scan --llm-logs --format json:      {b:7.2f} s   peak RSS {b_rss:7.0f} MiB   "
            f"CPU {b_cpu:6.2f} s"
        )
        print(
            f"ratio b/a: {b / a:.2f}x   ({args.requests / b:,.0f} requests/s); CPU ratio {b_cpu / a_cpu:.2f}x"
        )
        print(
            f"scan saw {llm.get('requests')} requests, cost ${llm.get('computed cost USD')}, "
            f"{len(report.get('findings', []))} findings"
        )
        if not report:
            print("scan produced no report:", err)
        if econ_runs:
            c, c_rss, c_cpu, c_err = median_run(econ_runs)
            econ = (json.loads(econ_out.read_text()) if econ_out.exists() else {}).get("economics") or {}
            print(
                f"(c) scan --llm-logs --revenue (economics):     {c:7.2f} s   peak RSS {c_rss:7.0f} MiB   "
                f"CPU {c_cpu:6.2f} s"
            )
            print(
                f"ratio c/b: {c / b:.2f}x (economics section on top of the plain scan); CPU ratio "
                f"{c_cpu / b_cpu:.2f}x; {len(econ.get('units', {}).get('customer', []))} customers, "
                f"total cost ${(econ.get('totals') or {}).get('total_cost_usd')}"
            )
            if not econ:
                print("economics scan produced no section:", c_err)


if __name__ == "__main__":
    main()
