"""Hostile and broken LLM inputs: each costs only the offending record, never escapes the work
directory, never reaches DuckDB's SQL text; every other record is still read and priced.

Every good record is gpt-4o-mini 100 in / 10 out on 2026-10-05: 100*0.15 + 10*0.60 = 21 per 1M.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.plugin import ScannerError
from aifinops_cli.scanners.llm.engine import Engine, Settings, check_config, sweep_stale_workdirs
from aifinops_cli.scanners.llm.formats import DEFAULT_ATTRIBUTE_KEYS
from aifinops_cli.scanners.llm.inputs import safe_local_name
from tests.llm_helpers import priced_rows, scan
from tests.scanners.llm.test_llm_s3_cli import moto_s3  # noqa: F401  (fixture)

GOOD = {
    "timestamp": "2026-10-05T12:00:00Z",
    "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    "response": {
        "id": "c",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 100, "completion_tokens": 10},
    },
}
LINE = json.dumps(GOOD)
COST = 21e-6


def bad_lines(result) -> list[tuple[int, str]]:
    return [(e["line"], e["problem"]) for e in result.analysis["llm"]["data"]["malformed_examples"]]


def test_invalid_utf8_line_costs_only_itself_with_its_line(tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_bytes(
        b"\n".join([LINE.encode(), b'{"model": "\xff\xfe gpt"}', LINE.encode(), LINE.encode()]) + b"\n"
    )
    rows = priced_rows(path)
    # the records after the bad one keep their own line numbers (3 and 4, not 2 and 3)
    assert [r["line_no"] for r in rows] == [1, 3, 4] and [r["cost"] for r in rows] == [
        pytest.approx(COST)
    ] * 3
    assert bad_lines(scan([str(path)])) == [(2, "invalid UTF-8")]


def test_first_record_over_1mb_is_read_and_one_over_the_record_limit_is_counted(tmp_path):
    big = dict(
        GOOD, request={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * (2 << 20)}]}
    )
    huge = dict(
        GOOD, request={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "y" * (17 << 20)}]}
    )
    path = tmp_path / "big.jsonl"
    # the broken line 4 sends the file through the line-by-line reader, which has the record limit
    path.write_text("\n".join([json.dumps(big), json.dumps(huge), LINE, "{not json", LINE]) + "\n")
    result = scan([str(path)])
    llm = result.analysis["llm"]
    # the 2 MB first record no longer hides the format; the 17 MB one is over the 16 MB limit
    assert llm["summary"]["requests"] == 3
    assert llm["summary"]["computed cost USD"] == pytest.approx(round(3 * COST, 4))
    assert bad_lines(result) == [(2, "record over 16 MB"), (4, "not valid JSON")]


def test_truncated_gzip_keeps_the_records_before_the_cut(tmp_path):
    body = gzip.compress(("".join(LINE + "\n" for _ in range(20000))).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(body[: len(body) // 2])
    result = scan([str(path)])
    llm = result.analysis["llm"]
    n = llm["summary"]["requests"]
    assert 0 < n < 20000  # what was complete before the cut
    [(line, why)] = bad_lines(result)
    assert line == n + 1 and why.startswith("truncated gzip")
    assert llm["summary"]["computed cost USD"] == pytest.approx(round(n * COST, 4))


def test_deeply_nested_first_line_costs_only_itself(tmp_path):
    deep = '{"x": ' + "[" * 100000 + "]" * 100000 + "}"
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([deep, LINE, LINE]) + "\n")
    result = scan([str(path)], llm_log_format=None)
    assert result.analysis["llm"]["summary"]["requests"] == 2
    assert [line for line, _ in bad_lines(result)] == [1]


def test_memory_limit_injection_is_refused_before_sql():
    for bad in ("1GB'; COPY (SELECT 1) TO '/tmp/pwned.csv'; --", "600MB; SET x=1", "lots", "", 5):
        with pytest.raises(ScannerError, match=r"llm\.memory_limit"):
            check_config({"memory_limit": bad})
        with pytest.raises(ScannerError, match=r"llm\.memory_limit"):
            Engine(Settings(attribute_keys=DEFAULT_ATTRIBUTE_KEYS, memory_limit=str(bad)))
    check_config({"memory_limit": "1.5GB"})  # a real size passes
    with pytest.raises(ScannerError, match="azure_deployments"):
        check_config({"azure_deployments": {"x'); DROP TABLE raw; --": "gpt-4o"}})


def test_bad_llm_config_exits_2_before_the_scan(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(LINE + "\n")
    pwned = tmp_path / "pwned.csv"
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text(f"llm:\n  memory_limit: \"1GB'; COPY (SELECT 1) TO '{pwned}'; --\"\n")
    res = CliRunner().invoke(app, ["--config", str(cfg), "scan", "--llm-logs", str(path), "--format", "json"])
    assert res.exit_code == 2 and "llm.memory_limit" in res.output and not pwned.exists()
    res = CliRunner().invoke(app, ["scan", "--llm-logs", str(path), "--llm-log-format", "nope"])
    assert res.exit_code == 2 and "unknown --llm-log-format" in res.output


@pytest.mark.parametrize(
    "key",
    [
        "../../escape.jsonl",
        "/abs/escape.jsonl",
        "a/../../b/escape.jsonl",
        "..\\..\\win.jsonl",
        "./.hidden.jsonl",
        "x/ /..jsonl",
    ],
)
def test_s3_keys_map_to_safe_names_inside_the_work_dir(tmp_path, key):
    root = tmp_path / "work" / "s3"
    local = safe_local_name(root, 7, key)
    assert local.parent == root and ".." not in local.name and not local.name.startswith(".")
    assert local.name.startswith("000007-")


def test_s3_traversal_keys_are_read_and_written_inside_the_work_dir(moto_s3, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    s3 = boto3.client("s3")
    for key in ("evil/../../../baseline.jsonl", "/evil/abs.jsonl"):
        s3.put_object(Bucket="logs", Key=key, Body=(LINE + "\n").encode())
    result = scan(["s3://logs/evil/", "s3://logs//evil/"])
    assert result.analysis["llm"]["summary"]["requests"] == 2
    assert not list(tmp_path.rglob("baseline.jsonl")) and not Path("/evil").exists()
    assert not Path("/baseline.jsonl").exists() and not Path("/tmp/baseline.jsonl").exists()


def test_work_dir_is_private_and_removed_and_stale_ones_are_swept(tmp_path):
    engine = Engine(Settings(attribute_keys=DEFAULT_ATTRIBUTE_KEYS))
    work = engine.workdir
    assert stat.S_IMODE(work.stat().st_mode) == 0o700
    assert stat.S_IMODE((work / "spill").stat().st_mode) == 0o700
    engine.close()
    assert not work.exists()
    # a run killed with -9 leaves its directory; the next run removes it (only dead owners')
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    stale = tmp_path / f"aifinops-llm-{dead}-abc"
    (stale / "spill").mkdir(parents=True)
    (stale / "spill" / "duckdb_temp_block.tmp").write_text("prompt text")
    alive = tmp_path / f"aifinops-llm-{os.getpid()}-def"
    alive.mkdir()
    other = tmp_path / "aifinops-llm-notapid"
    other.mkdir()
    assert sweep_stale_workdirs(str(tmp_path)) == 1
    assert not stale.exists() and alive.exists() and other.exists()
