"""The CLI through typer's CliRunner: every command, every format, exit codes, sample reports."""

from __future__ import annotations

import csv
import io
import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from aifinops_cli import __version__
from tests.conftest import run_cli
from tests.paths import ROOT

SAMPLES = ROOT / "sample_reports"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


DEMO_DATA = re.compile(r"[^\s\"'`|(]*/aifinops-demo-[^/]+/[^/]+/")
# the demo's inputs are dated in the 30 days before the run (demo.demo_window): dates and months
# change daily, and so does the spend of the current calendar month so far (the budget's
# month-to-date), which depends on the day of the month; the figures over the window do not
DATE = re.compile(r"\b\d{4}-\d{2}(-\d{2})?\b")
# DuckDB sums in parallel: the last digits of a float (and the sign of a zero difference) may
# differ between two runs on the same inputs
LONG_FLOAT = re.compile(r"-?\d+\.\d{7,}")
NEGATIVE_ZERO = re.compile(r"-(0\.0+)\b")
MONTH_TO_DATE = re.compile(r'("month_to_date_usd": )[0-9.]+|\$[0-9,.]+( spent in <date> so far)')
# ids moto draws at random (their sequence changes between moto releases), and the fingerprints
# made from them, wherever a report names one (a finding's own, the one it overlaps)
AWS_ID = re.compile(r"\b(i|vol|snap|ami|eni)-[0-9a-f]{8,17}\b")
FINGERPRINT = re.compile(r'("(?:fingerprint|overlaps)": "|finding `)[0-9a-f]{16}')


def normalise(text: str) -> str:
    """Reports are compared aside from timestamps and dates, the demo inputs' folder, the
    month-to-date spend, float digits past the sixth decimal and the ids the fake AWS account
    generates."""
    text = DEMO_DATA.sub("<demo-data>/", TIMESTAMP.sub("<timestamp>", text))
    text = MONTH_TO_DATE.sub(r"\1<mtd>\2", DATE.sub("<date>", text))
    text = NEGATIVE_ZERO.sub(r"\1", LONG_FLOAT.sub(lambda m: f"{float(m.group()):.6f}", text))
    return FINGERPRINT.sub(r"\1<fp>", AWS_ID.sub(r"\1-<id>", text))


def load(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "aifinops-report.json").read_text())


def test_version(runner):
    result = run_cli(runner, "--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"aifinops {__version__}"


def test_json_matches_shipped_schema(demo_dir):
    schema = json.loads(
        (resources.files("aifinops_cli.output") / "schema" / "report.schema.json").read_text()
    )
    report = load(demo_dir)
    jsonschema.validate(report, schema)
    assert report["schema_version"].startswith("1.")
    assert report["findings"], "the demo estate must produce findings"
    for f in report["findings"]:
        basis = f["evidence"].get("cost_basis", [])
        # every finding's cost is the sum of its traced cost lines
        if basis and f["resource_kind"].startswith("aws."):
            assert f["monthly_cost_usd"] == pytest.approx(sum(c["monthly_usd"] for c in basis), abs=0.01)


def test_demo_totals_add_up(demo_dir):
    report = load(demo_dir)
    findings = [f for f in report["findings"] if not f["suppressed"] and not f["overlaps"]]
    total = round(sum(f["estimated_monthly_savings_usd"] for f in findings), 2)
    # the Kubernetes view of the demo's Karpenter GPU node is counted under its EC2 finding
    overlapping = [f for f in report["findings"] if f["overlaps"]]
    assert [(f["rule_id"], f["resource_id"]) for f in overlapping] == [
        ("k8s-gpu-node-unrequested", "ip-10-1-0-11.ec2.internal")
    ]
    counted_by = {f["fingerprint"]: f for f in report["findings"]}[overlapping[0]["overlaps"]]
    assert (counted_by["rule_id"], counted_by["resource_name"]) == ("aws-ec2-idle-gpu", "eks-ml-gpu-node")
    assert report["summary"]["overlapping_usd"] == pytest.approx(4140.56)  # 5.672 x 730
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(total)
    assert sum(report["summary"]["by_category"].values()) == pytest.approx(total, abs=0.05)
    assert sum(report["summary"]["by_owner"].values()) == pytest.approx(total, abs=0.05)
    assert report["summary"]["annual_waste_usd"] == pytest.approx(total * 12, abs=0.1)


def test_markdown_headline_and_sections(demo_dir):
    md = (demo_dir / "aifinops-report.md").read_text()
    total = load(demo_dir)["summary"]["monthly_waste_usd"]
    assert md.startswith("# AI fragmentation-tax report")
    assert f"**${total:,.2f} per month**" in md
    for section in (
        "## By category",
        "## By owner / team",
        "## By provider",
        "## Top ",
        "## Coverage",
        "## Method",
    ):
        assert section in md


def test_csv_has_one_row_per_finding(demo_dir):
    rows = list(csv.DictReader(io.StringIO((demo_dir / "aifinops-report.csv").read_text())))
    report = load(demo_dir)
    assert len(rows) == len(report["findings"])
    assert (
        float(rows[0]["estimated_monthly_savings_usd"])
        == report["findings"][0]["estimated_monthly_savings_usd"]
    )


def test_table_headline(demo_dir):
    text = (demo_dir / "aifinops-report.txt").read_text()
    total = load(demo_dir)["summary"]["monthly_waste_usd"]
    assert f"Fragmentation tax: ${total:,.2f}/month" in text


def test_sample_reports_are_current(demo_dir):
    """Regenerate with: aifinops scan --demo --format json,markdown --output-dir sample_reports"""
    for name in ("aifinops-report.json", "aifinops-report.md"):
        committed = (SAMPLES / name).read_text()
        assert normalise((demo_dir / name).read_text()) == normalise(committed), (
            f"sample_reports/{name} is stale: regenerate it with "
            "`aifinops scan --demo --format json,markdown --output-dir sample_reports`"
        )


def test_fail_on_and_baseline(demo_dir, demo_rerun_dir):
    """The demo's own JSON report as the baseline: nothing new, so the gate passes. (The gate
    tripping on new findings: test_suppressions and test_hostile_cli.)"""
    first = load(demo_dir)
    assert first["summary"]["findings_by_severity"]["high"] > 0
    # the second demo ran in its own process, as CI runs it (moto's in-process id sequence is
    # shared state), its AWS scanners with --fail-on high --baseline <the first report>
    # (conftest demo_rerun_dir)
    assert (demo_rerun_dir / "returncode").read_text() == "0"
    report = load(demo_rerun_dir)
    assert report["new_findings"] == 0
    assert {f["status"] for f in report["findings"]} == {"known"}
    aws = [f for f in first["findings"] if f["provider"] == "aws"]
    assert len(aws) >= 10 and any(f["severity"] == "high" for f in aws)  # the gate had work
    assert sorted(f["fingerprint"] for f in report["findings"]) == sorted(f["fingerprint"] for f in aws)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["scan", "--format", "json,markdown"], "several formats need --output-dir"),
        (["scan", "--format", "pdf"], "unknown format"),
        (["scan", "--scanner", "nope"], "unknown scanner"),
        (["scan", "--provider", "azure"], "unknown provider"),
        (["scan", "--set", "aws-ec2-idle-gpu.nope=1"], "unknown parameter"),
        (["scan", "--baseline", "/"], "cannot read baseline"),  # a missing one: test_baseline_cmd
        (["--config", "/nonexistent.yaml", "scan"], "cannot read config file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(runner, args, words):
    result = run_cli(runner, *args)
    assert result.exit_code == 2
    assert words in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_rules_commands(runner, tmp_path):
    result = run_cli(runner, "rules", "list", "--format", "json")
    ids = {r["id"] for r in json.loads(result.stdout)}
    assert "aws-ec2-idle-gpu" in ids
    assert "aws-ebs-unattached" in run_cli(runner, "rules", "list").stdout
    assert "cpu_max_pct" in run_cli(runner, "rules", "show", "aws-ec2-idle-gpu").stdout
    assert json.loads(run_cli(runner, "rules", "schema").stdout)["title"] == "aifinops rule"
    good = tmp_path / "good.yaml"
    good.write_text((ROOT / "rules" / "aws.yaml").read_text())
    result = run_cli(runner, "rules", "validate", str(good))
    assert result.exit_code == 0 and "ok: 3 rules" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    title: X\n    severity: huge\n")
    result = run_cli(runner, "rules", "validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2: rules.0: 'category' is a required property" in result.stderr


def test_scanners_list(runner):
    rows = json.loads(run_cli(runner, "scanners", "list", "--format", "json").stdout)["scanners"]
    names = {r["name"] for r in rows}
    assert {"aws.ebs", "aws.ec2"} <= names
    assert "aws.ebs" in run_cli(runner, "scanners", "list").stdout


def test_output_file_is_written_whole(runner, tmp_path):
    target = tmp_path / "nested" / "report.md"
    cur = str(ROOT / "tests" / "data" / "billing" / "cur_legacy.csv")
    result = run_cli(runner, "scan", "--billing", cur, "--format", "markdown", "--output", str(target))
    assert result.exit_code == 0
    assert target.read_text().startswith("# AI fragmentation-tax report")
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]  # no temp file left
