"""Where reports go and what they hold: `--output-dir s3://` (boto3, against moto behind the
recording proxy), `--split-by owner`, `--min-severity` and `--owner`. On the FOCUS export of
tests/focus_export.py: egress (owner ml-research, medium) $20.00 cost, $16.00 to save; untagged AI
spend (unowned, low) $500.00 cost, $0.00 to save."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.conftest import run_cli
from tests.focus_export import write_focus


@pytest.fixture
def export(tmp_path):
    return write_focus(tmp_path / "focus.csv")


def _savings(doc: dict) -> dict[str, float]:
    return {f["rule_id"]: f["estimated_monthly_savings_usd"] for f in doc["findings"]}


def test_output_dir_s3_uploads_every_format_through_boto3(runner, far_end, export, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="finops-reports")
    result = run_cli(
        runner, "scan", "--billing", str(export), "-f", "json,markdown",
        "--output-dir", "s3://finops-reports/aifinops/daily/", "--split-by", "owner",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # what reached the far end, through the recording proxy: one S3 PUT per object
    uploaded = sorted(
        op for service, _, op in far_end.recorder.calls if service == "s3" and "/aifinops/" in op
    )
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="finops-reports")["Contents"])
    assert keys == [
        "aifinops/daily/aifinops-report.json",
        "aifinops/daily/aifinops-report.md",
        "aifinops/daily/owners/ml-research/aifinops-report.json",
        "aifinops/daily/owners/ml-research/aifinops-report.md",
        "aifinops/daily/owners/unowned/aifinops-report.json",
        "aifinops/daily/owners/unowned/aifinops-report.md",
    ]
    whole = s3.get_object(Bucket="finops-reports", Key="aifinops/daily/aifinops-report.json")
    assert whole["ContentType"] == "application/json"
    doc = json.loads(whole["Body"].read())
    assert _savings(doc) == {"billing-ai-egress": 16.0, "billing-untagged-ai-spend": 0.0}
    assert doc["summary"]["monthly_waste_usd"] == 16.0  # 16.00 + 0.00
    md = s3.get_object(Bucket="finops-reports", Key="aifinops/daily/aifinops-report.md")
    assert md["ContentType"].startswith("text/markdown")
    assert b"**$16.00 per month**" in md["Body"].read()
    assert "wrote s3://finops-reports/aifinops/daily/aifinops-report.json" in result.stderr
    assert not Path("s3:").exists() and list(tmp_path.iterdir()) == [export]  # no local 's3:' folder
    assert uploaded == [f"/finops-reports/{key}" for key in keys]


def test_output_dir_s3_without_the_bucket_is_one_line_exit_2(runner, far_end, export):
    result = run_cli(
        runner, "scan", "--billing", str(export), "-f", "json", "--output-dir", "s3://no-such-bucket/x"
    )
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("aifinops: error: cannot upload s3://no-such-bucket/x/aifinops-report.json: ")
    assert "NoSuchBucket" in line and line.endswith("(exit 2: the scan finished, upload failed)")


@pytest.mark.parametrize(
    "args", [["--output-dir", "s3://"], ["--output-dir", "s3:/bucket/x"], ["-o", "s3://bucket/x.json"]]
)
def test_bad_s3_destination_is_refused_before_scanning(runner, export, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(runner, "scan", "--billing", str(export), "-f", "json", *args)
    assert result.exit_code == 2 and args[0] in result.stderr and "s3://bucket/prefix" in result.stderr
    assert not (tmp_path / "s3:").exists()


def test_split_by_owner_writes_one_report_per_team(runner, export, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        runner, "-q", "scan", "--billing", str(export), "-f", "json,markdown", "--output-dir", str(out),
        "--split-by", "owner",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    team = json.loads((out / "owners" / "ml-research" / "aifinops-report.json").read_text())
    assert _savings(team) == {"billing-ai-egress": 16.0}
    assert team["summary"]["monthly_waste_usd"] == 16.0 and team["analysis"] == {}
    assert team["parameters"]["split"] == {"owner": "ml-research"}
    nobody = json.loads((out / "owners" / "unowned" / "aifinops-report.json").read_text())
    assert _savings(nobody) == {"billing-untagged-ai-spend": 0.0}
    assert "**$0.00 per month**" in (out / "owners" / "unowned" / "aifinops-report.md").read_text()
    whole = json.loads((out / "aifinops-report.json").read_text())
    assert len(whole["findings"]) == 2 and whole["analysis"]  # the whole report keeps everything


def test_split_needs_an_output_dir_and_a_known_key(runner, export):
    assert (
        "--split-by needs --output-dir"
        in run_cli(runner, "scan", "--billing", str(export), "--split-by", "owner").stderr
    )
    bad = run_cli(runner, "scan", "--billing", str(export), "--split-by", "team", "--output-dir", "x")
    assert bad.exit_code == 2 and "--split-by team: choose from owner" in bad.stderr


def test_owner_slug_never_leaves_the_directory():
    from aifinops_cli.core.filters import slug

    assert slug("ml-research") == "ml-research"
    assert slug("(unowned)") == "unowned"
    hostile = slug("../../etc/passwd")
    assert "/" not in hostile and not hostile.startswith(".") and hostile.startswith("etc-passwd-")
    assert slug("Team A") != slug("team-a")  # folded names keep apart by their hash


@pytest.mark.parametrize(
    ("args", "left"),
    [
        (["--min-severity", "medium"], {"billing-ai-egress": 16.0}),
        (["--min-severity", "LOW"], {"billing-ai-egress": 16.0, "billing-untagged-ai-spend": 0.0}),
        (["--owner", "ml-*"], {"billing-ai-egress": 16.0}),
        (["--owner", "(unowned)"], {"billing-untagged-ai-spend": 0.0}),
        (["--owner", "nobody,ml-research"], {"billing-ai-egress": 16.0}),
        (["--owner", "ml-research", "--min-severity", "high"], {}),
    ],
)
def test_filters_shape_the_report_and_its_totals(runner, export, args, left):
    result = run_cli(runner, "-q", "scan", "--billing", str(export), "-f", "json", *args)
    doc = json.loads(result.stdout)
    assert _savings(doc) == left
    assert doc["summary"]["monthly_waste_usd"] == sum(left.values())


def test_filters_decide_the_gate(runner, export):
    """--fail-on low trips on the unowned low finding; filtered to ml-research it does not
    (the medium egress is below high)."""
    args = ("-q", "scan", "--billing", str(export), "-f", "json")
    assert run_cli(runner, *args, "--fail-on", "low").exit_code == 1
    assert run_cli(runner, *args, "--fail-on", "high", "--owner", "ml-research").exit_code == 0
    assert run_cli(runner, *args, "--fail-on", "low", "--owner", "ml-research").exit_code == 1
    assert run_cli(runner, *args, "--fail-on", "low", "--min-severity", "high").exit_code == 0
