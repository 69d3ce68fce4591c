"""S3 inputs (LLM logs, billing exports): the client carries the scan's timeouts and attempt
budget, and one object that cannot be read is one coverage line while the others are read.

moto holds the bucket; the recording proxy in front of it (tests/fakes/aws_proxy.py) makes one
object hang (never answer) and another reset the connection, on the wire."""

from __future__ import annotations

import importlib
import json

import boto3
import pytest

from tests.conftest import run_cli
from tests.fakes.aws_proxy import Fault
from tests.paths import TEST_DATA

CUR = TEST_DATA / "billing" / "cur_legacy.csv"
REC = {
    "schemaType": "ModelInvocationLog",
    "schemaVersion": "1.0",
    "timestamp": "2026-10-05T12:00:00Z",
    "accountId": "123456789012",
    "region": "us-east-1",
    "requestId": "b1",
    "operation": "InvokeModel",
    "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
    "requestMetadata": {"team": "platform"},
    "input": {"inputContentType": "application/json", "inputTokenCount": 1000},
    "output": {"outputContentType": "application/json", "outputTokenCount": 200},
}


@pytest.fixture
def bucket(far_end, tmp_path):
    """The bucket `logs`, written straight to moto (no faults); yields (far end, config file)."""
    s3 = boto3.client("s3", endpoint_url=far_end.moto_url)
    s3.create_bucket(Bucket="logs")
    lines = lambda n: "".join(json.dumps(REC) + "\n" for _ in range(n)).encode()  # noqa: E731
    s3.put_object(Bucket="logs", Key="bedrock/a-hang.jsonl", Body=lines(1))
    s3.put_object(Bucket="logs", Key="bedrock/b-reset.jsonl", Body=lines(1))
    s3.put_object(Bucket="logs", Key="bedrock/c-good.jsonl", Body=lines(3))
    s3.put_object(Bucket="logs", Key="bedrock/d-good.jsonl", Body=lines(2))
    s3.put_object(Bucket="logs", Key="cur/a-hang.csv", Body=CUR.read_bytes())
    s3.put_object(Bucket="logs", Key="cur/b-reset.csv", Body=CUR.read_bytes())
    s3.put_object(Bucket="logs", Key="cur/c-good.csv", Body=CUR.read_bytes())
    for key in ("bedrock/a-hang.jsonl", "cur/a-hang.csv"):
        far_end.recorder.faults.append(
            Fault(kind="hang", service="s3", operation=f"/logs/{key}", hang_seconds=12)
        )
    for key in ("bedrock/b-reset.jsonl", "cur/b-reset.csv"):  # RST instead of an answer
        far_end.recorder.faults.append(Fault(kind="reset", service="s3", operation=f"/logs/{key}"))
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  connect_timeout: 1\n  read_timeout: 1\n  max_attempts: 2\n")
    yield far_end, cfg
    far_end.recorder.release.set()
    far_end.recorder.release.clear()


def scan(runner, cfg, *args: str):
    result = run_cli(runner, "--config", str(cfg), "scan", *args, "--format", "json")
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    return report, {s["scope"]: s for s in report["coverage"]["scopes"]}


def test_llm_s3_one_object_hangs_one_resets_the_rest_read(bucket, runner):
    far_end, cfg = bucket
    report, scopes = scan(runner, cfg, "--llm-logs", "s3://logs/bedrock/")
    hang = scopes["s3://logs/bedrock/a-hang.jsonl"]
    # the scan's read timeout (1 s), not botocore's default 60 s, ended the wait
    assert hang["status"] == "failed" and "read timed out" in hang["message"], hang
    reset = scopes["s3://logs/bedrock/b-reset.jsonl"]
    assert reset["status"] == "failed" and "connection was closed" in reset["message"], reset
    assert scopes["s3://logs/bedrock/c-good.jsonl"]["status"] == "ok"
    assert scopes["s3://logs/bedrock/d-good.jsonl"]["status"] == "ok"
    # the attempt budget: the hanging object was asked for at most max_attempts (2) times
    assert far_end.recorder.calls.count(("s3", "us-east-1", "/logs/bedrock/a-hang.jsonl")) <= 2
    summary = report["analysis"]["llm"]["summary"]
    assert summary["requests"] == 3 + 2
    # claude-3-haiku on Bedrock: (1000 x $0.25 + 200 x $1.25) / 1M = $0.0005 a record, x 5
    assert summary["computed cost USD"] == pytest.approx(5 * (1000 * 0.25 + 200 * 1.25) / 1e6)


def test_billing_s3_one_object_hangs_one_resets_the_rest_read(bucket, runner):
    far_end, cfg = bucket
    report, scopes = scan(runner, cfg, "--billing", "s3://logs/cur/")
    hang = scopes["s3://logs/cur/a-hang.csv"]
    assert hang["status"] == "failed" and "read timed out" in hang["message"], hang
    reset = scopes["s3://logs/cur/b-reset.csv"]
    assert reset["status"] == "failed" and "connection was closed" in reset["message"], reset
    # the good object (named by its downloaded copy, as billing names S3 files today) is read,
    # partial for the one bad-cost row cur_legacy.csv always has
    [good] = [s for scope, s in scopes.items() if scope.endswith("/logs/cur/c-good.csv")]
    assert good["status"] == "partial", scopes
    assert far_end.recorder.calls.count(("s3", "us-east-1", "/logs/cur/a-hang.csv")) <= 2
    summary = report["analysis"]["billing"]["summary"]
    # cur_legacy.csv once: 1,000 GB inter-region x $0.02 + 500 GB inter-zone x $0.01
    # + 100 GB internet x $0.09 + 200 GB NAT x $0.045 = 20 + 5 + 9 + 9 = $43
    assert summary["Data transfer out (USD)"] == pytest.approx(
        1000 * 0.02 + 500 * 0.01 + 100 * 0.09 + 200 * 0.045
    )
    assert summary["Billed total (USD)"] == pytest.approx(3770.0)


def test_scan_deadline_reports_a_scanner_that_does_not_split_whole(far_end, runner, tmp_path):
    """The billing scanner is one scope (`*`): its S3 listing hangs past the deadline (the read
    timeout, 120 s, is far beyond it), so at `--timeout` it is one timed-out line and the LLM
    scanner's local file is reported."""
    boto3.client("s3", endpoint_url=far_end.moto_url).create_bucket(Bucket="logs")
    far_end.recorder.faults.append(Fault(kind="hang", service="s3", operation="/logs", hang_seconds=30))
    logs = tmp_path / "bedrock.jsonl"
    logs.write_text("".join(json.dumps(REC) + "\n" for _ in range(3)))
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  read_timeout: 120\n  max_attempts: 1\n")
    importlib.import_module("duckdb")  # the LLM reader's engine, imported before the deadline runs
    try:
        report, scopes = scan(
            runner, cfg, "--billing", "s3://logs/cur/", "--llm-logs", str(logs), "--timeout", "4"
        )
    finally:
        far_end.recorder.release.set()
        far_end.recorder.release.clear()
    billing = next(s for s in report["coverage"]["scopes"] if s["scanner"] == "billing")
    assert (billing["scope"], billing["status"]) == ("*", "failed"), billing
    assert billing["message"].startswith("timed out: not finished within the 4 s scan deadline")
    assert scopes[str(logs)]["status"] == "ok"
    # 3 Bedrock claude-3-haiku records x (1000 x $0.25 + 200 x $1.25) / 1M = $0.0015
    summary = report["analysis"]["llm"]["summary"]
    assert summary["computed cost USD"] == pytest.approx(3 * (1000 * 0.25 + 200 * 1.25) / 1e6)
