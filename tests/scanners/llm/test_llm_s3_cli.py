"""s3:// input against a moto server, and the real `aifinops scan` command."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from tests.llm_helpers import scan

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
def moto_s3(monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="logs")
    body = gzip.compress("".join(json.dumps(REC) + "\n" for _ in range(3)).encode())
    for day in ("05", "06"):
        s3.put_object(
            Bucket="logs",
            Key=f"AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/10/{day}/x.json.gz",
            Body=body,
        )
    s3.put_object(Bucket="logs", Key="other/readme.md", Body=b"not a log")
    yield
    server.stop()


def test_s3_prefix_read_through_moto(moto_s3):
    result = scan(["s3://logs/AWSLogs/"])
    llm = result.analysis["llm"]
    assert llm["summary"]["requests"] == 6
    # claude-3-haiku on Bedrock: 1000*0.25 + 200*1.25 = 250 + 250 = 500 per 1M = $0.0005 each; 6 -> $0.003
    assert llm["summary"]["computed cost USD"] == pytest.approx(0.003)
    assert all(c.scope.startswith("s3://logs/AWSLogs/") and c.status == "ok" for c in result.coverage)


def test_s3_missing_bucket_is_a_coverage_line(moto_s3):
    with pytest.raises(Exception, match="no readable LLM log files"):
        scan(["s3://no-such-bucket/x"])


def test_cli_scan_llm_logs_json(tmp_path):
    path = tmp_path / "a.jsonl"
    recs = [
        {
            "timestamp": f"2026-10-05T10:{i:02d}:00Z",
            "metadata": {"team": "support", "app": "triage"},
            "request": {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": f"Classify: x{i}. Respond with only the label"}],
            },
            "response": {
                "id": "c",
                "object": "chat.completion",
                "created": 1,
                "model": "gpt-4o",
                "usage": {"prompt_tokens": 400, "completion_tokens": 5, "total_tokens": 405},
            },
        }
        for i in range(40)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["scan", "--llm-logs", str(path), "--format", "json", "--output", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    rules = {f["rule_id"] for f in report["findings"]}
    assert "llm-premium-simple" in rules
    assert report["analysis"]["llm"]["summary"]["requests"] == 40
