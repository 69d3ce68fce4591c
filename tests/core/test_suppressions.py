"""Suppressions: matching by rule, resource, tag and owner; expiry on a fixed clock; the CLI path
(CI stops failing on a known exception, the finding stays in the JSON, expired entries are loud)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from aifinops_cli.core import suppressions as supp
from aifinops_cli.core.models import Confidence, Finding, Observation, Severity
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.demo.aws import DemoInstance, DemoVolume, seed_region
from tests.conftest import run_cli


def finding(
    rule: str, rid: str, owner: str = "", tags: dict | None = None, name: str = "", savings: float = 10.0
) -> Finding:
    obs = Observation(
        provider="aws",
        kind="aws.ebs.volume",
        id=rid,
        account="123456789012",
        region="us-east-1",
        name=name,
        tags=tags or {},
        owner=owner,
    )
    return Finding(
        rule, "t", "orphaned-storage", Severity.HIGH, Confidence.HIGH, obs, savings, savings, "delete it", {}
    )


FILE = """\
suppressions:
  - rule: aws-ebs-unattached
    resource: vol-keep*
    reason: restore drill volumes
    expires: 2026-03-31
  - tag: {env: sandbox}
    reason: sandbox reviewed monthly
  - owner: research
    rule: aws-ec2-*
    reason: conference deadline
    expires: 2026-06-15
  - resource: scratch-*
    reason: matched by Name
"""


def test_matching_and_expiry_on_a_fixed_clock():
    entries = supp.parse(FILE, "s.yaml")
    assert [e.source for e in entries] == ["s.yaml:2", "s.yaml:6", "s.yaml:8", "s.yaml:12"]

    def run(today: date) -> tuple[list[Finding], supp.SuppressionOutcome]:
        for e in entries:
            e.matched = 0
        fs = [
            finding("aws-ebs-unattached", "vol-keep-1"),
            finding("aws-ebs-unattached", "vol-other"),
            finding("aws-ebs-unattached", "vol-sb", tags={"Env": "sandbox"}),
            finding("aws-ec2-idle-gpu", "i-1", owner="research"),
            finding("aws-ebs-unattached", "vol-r", owner="research"),
            finding("aws-ebs-unattached", "vol-x", name="scratch-bob"),
        ]
        return fs, supp.apply(fs, entries, today, ["s.yaml"])

    # the expiry day itself is still covered
    fs, out = run(date(2026, 3, 31))
    assert [f.suppressed for f in fs] == [True, False, True, True, False, True]
    assert fs[0].suppression_reason == "restore drill volumes (until 2026-03-31) [s.yaml:2]"
    assert fs[2].suppression_reason == "sandbox reviewed monthly [s.yaml:6]"  # tag key any case
    assert out.suppressed == 4 and out.expired == []

    # the day after, the first entry lapses: its finding counts again and the entry is reported
    fs, out = run(date(2026, 4, 1))
    assert [f.suppressed for f in fs] == [False, False, True, True, False, True]
    assert [e.source for e in out.expired] == ["s.yaml:2"]
    doc = out.to_dict()
    assert doc["expired"] == [
        {
            "source": "s.yaml:2",
            "selector": "rule=aws-ebs-unattached, resource=vol-keep*",
            "reason": "restore drill volumes",
            "expires": "2026-03-31",
            "matched": 1,
        }
    ]
    assert doc["checked_on"] == "2026-04-01" and doc["suppressed_findings"] == 3

    # after mid-June both dated entries have lapsed; undated ones never do
    fs, out = run(date(2026, 6, 16))
    assert [f.suppressed for f in fs] == [False, False, True, False, False, True]
    assert {e.source for e in out.expired} == {"s.yaml:2", "s.yaml:8"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("suppressions:\n  - rule: x\n", "s.yaml:2: suppressions.0: a suppression needs a `reason`"),
        ("suppressions:\n  - reason: because\n", "needs at least one of rule"),
        ("suppressions:\n  - rule: x\n    reason: r\n    expires: soon\n", "s.yaml:4"),
        ("suppressions:\n  - rule: x\n    reason: r\n    until: 2026-01-01\n", "unknown key"),
        ("nope: []\n", "one key, `suppressions`"),
    ],
)
def test_bad_files_point_at_the_line(text, words):
    with pytest.raises(SourceError) as err:
        supp.parse(text, "s.yaml")
    assert words in str(err.value)


INSTANCES = [
    # idle GPU: p3.2xlarge 3.06 x 730 = 2,233.80 + 100 GB gp3 root x 0.08 = 8.00 -> 2,241.80, high
    DemoInstance("idle-p3", "p3.2xlarge", {"team": "research"}, cpu=1.0, gpu=0.5),
]
VOLUMES = [
    # io1 100 GB x 0.125 = 12.50 + 1000 IOPS x 0.065 = 65.00 -> 77.50, medium
    DemoVolume("io1-old", 100, "io1", {"env": "sandbox"}, iops=1000),
]


@pytest.fixture
def estate(far_end):
    seed_region("us-east-1", INSTANCES, VOLUMES, datetime.now(UTC))
    return far_end


def test_ci_stops_failing_and_expired_entries_are_reported(estate, runner, tmp_path):
    args = [
        "scan",
        "--regions",
        "us-east-1",
        "--scanner",
        "aws.ec2,aws.ebs",
        "--fail-on",
        "high",
        "--format",
        "json",
    ]
    result = run_cli(runner, *args)
    assert result.exit_code == 1  # the idle p3 fails CI
    sfile = tmp_path / "suppressions.yaml"
    sfile.write_text(
        "suppressions:\n"
        "  - owner: research\n    rule: aws-ec2-idle-gpu\n"
        "    reason: training restarts Monday\n    expires: 2099-12-31\n"
        "  - tag: env=sandbox\n    reason: old sandbox\n    expires: 2020-01-31\n"
        "  - resource: vol-nothing\n    reason: never matches\n"
    )
    result = run_cli(runner, *args, "--suppressions", str(sfile))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    p3 = next(f for f in doc["findings"] if f["rule_id"] == "aws-ec2-idle-gpu")
    assert p3["suppressed"] is True
    assert p3["suppression_reason"] == f"training restarts Monday (until 2099-12-31) [{sfile}:2]"
    # the total leaves it out: only io1-old's 77.50 counts
    assert doc["summary"]["monthly_waste_usd"] == pytest.approx(77.50)
    assert doc["suppressed_findings"] == 1
    io1 = next(f for f in doc["findings"] if f["rule_id"] == "aws-ebs-unattached")
    assert io1["suppressed"] is False  # its entry expired
    assert [e["source"] for e in doc["suppressions"]["expired"]] == [f"{sfile}:6"]
    assert doc["suppressions"]["expired"][0]["matched"] == 1
    assert [e["source"] for e in doc["suppressions"]["unused"]] == [f"{sfile}:9"]
    assert "expired on 2020-01-31; 1 finding(s) count again" in result.stderr

    # the same file from the config, relative to it; Markdown and HTML say what expired
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("suppressions: suppressions.yaml\n")
    out = tmp_path / "out"
    result = run_cli(
        runner, "--config", str(cfg), *args[:-2], "--format", "markdown,html", "--output-dir", str(out)
    )
    assert result.exit_code == 0, result.output
    md = (out / "aifinops-report.md").read_text()
    assert "Suppressed (not counted): 1." in md
    assert f"Expired suppression at {sfile}:6 (tag:env=sandbox, 2020-01-31)" in md
    html = (out / "aifinops-report.html").read_text()
    assert "Suppressed (1, not counted)" in html and "training restarts Monday" in html


def test_bad_suppression_file_is_a_usage_error(runner, tmp_path):
    sfile = tmp_path / "s.yaml"
    sfile.write_text("suppressions:\n  - rule: x\n")
    result = run_cli(runner, "scan", "--suppressions", str(sfile))
    assert result.exit_code == 2
    assert f"{sfile}:2: suppressions.0: a suppression needs a `reason`" in result.stderr
    result = run_cli(runner, "scan", "--suppressions", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2 and "cannot read suppression file" in result.stderr
