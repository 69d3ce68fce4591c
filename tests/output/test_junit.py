"""`--format junit`: a testcase per finding, failures exactly where the gate fails the job, read back
with an XML parser as GitLab and Jenkins read it. The export (tests/focus_export.py): egress
1,000 GB x $0.02 = $20.00, savings 80% = $16.00, medium; untagged AI spend $500.00, saves $0.00, low."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from aifinops_cli.core.gate import Gate
from aifinops_cli.core.models import Severity
from aifinops_cli.output import formatters
from tests.conftest import run_cli
from tests.focus_export import write_focus
from tests.output.test_hostile_output import VALUES, hostile_report

EGRESS = "aifinops.billing-ai-egress"
UNTAGGED = "aifinops.billing-untagged-ai-spend"


@pytest.fixture
def export(tmp_path):
    return write_focus(tmp_path / "focus.csv")


def _junit(runner, export, *args: str) -> tuple[int, ET.Element]:
    result = run_cli(runner, "-q", "scan", "--billing", str(export), "-f", "junit", *args)
    return result.exit_code, ET.fromstring(result.stdout)


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("classname"): c for c in root.iter("testcase")}


def test_fail_on_marks_failures_at_or_above_the_severity(runner, export):
    code, root = _junit(runner, export, "--fail-on", "medium")
    assert code == 1
    cases = _cases(root)
    # 2 findings + 1 coverage scope; only the medium egress finding fails
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "3",
        "1",
        "0",
        "0",
    )
    failure = cases[EGRESS].find("failure")
    assert failure is not None and failure.get("type") == "medium"
    assert failure.get("message") == "medium: $16.00/month to save (billing-ai-egress)"
    # the price line behind it: $0.0200/GB x 1,000 GB = $20.00
    assert "$0.0200/GB x 1,000.00 = $20.00/month" in failure.text
    assert "$16.00/month to save of $20.00/month" in failure.text
    assert cases[UNTAGGED].find("failure") is None  # low < medium: passes, details in system-out
    assert "$0.00/month to save of $500.00/month" in cases[UNTAGGED].find("system-out").text
    assert cases[EGRESS].get("name") == "us-east-1->us-west-2 (inter-region) (us-east-1)"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"aifinops: data-egress", "aifinops: attribution", "aifinops coverage"}
    assert suites["aifinops: data-egress"].get("failures") == "1"


def test_without_a_gate_nothing_fails_and_known_findings_pass(runner, export, tmp_path):
    code, root = _junit(runner, export)
    assert code == 0 and root.get("failures") == "0" and root.get("tests") == "3"
    baseline = tmp_path / "b.json"
    run_cli(runner, "-q", "baseline", "create", "--billing", str(export), "-o", str(baseline))
    code, root = _junit(runner, export, "--fail-on", "info", "--baseline", str(baseline))
    assert code == 0 and root.get("failures") == "0"  # both known


def test_fail_on_cost_fails_the_findings_that_save_money(runner, export):
    code, root = _junit(runner, export, "--fail-on-cost", "10")  # $16.00 + $0.00 >= $10.00
    cases = _cases(root)
    assert code == 1 and root.get("failures") == "1"
    assert cases[EGRESS].find("failure") is not None
    assert cases[UNTAGGED].find("failure") is None  # it saves nothing towards the $10.00


def test_suppressed_findings_are_skipped_with_their_reason(runner, export, tmp_path):
    rules = tmp_path / "s.yaml"
    rules.write_text("suppressions:\n  - rule: billing-ai-egress\n    reason: DR replica <agreed>\n")
    code, root = _junit(runner, export, "--fail-on", "low", "--suppressions", str(rules))
    cases = _cases(root)
    assert code == 1  # the untagged finding is new and low
    skipped = cases[EGRESS].find("skipped")
    assert skipped is not None and skipped.get("message") == f"suppressed: DR replica <agreed> [{rules}:2]"
    assert root.get("skipped") == "1" and root.get("failures") == "1"


def test_unreadable_scope_is_an_error(runner, export, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("not,a,billing,export\n1,2,3,4\n")
    _, root = _junit(runner, export, "--billing", str(broken))
    coverage = [c for c in root.iter("testcase") if c.get("classname") == "aifinops.coverage.billing"]
    errors = [c for c in coverage if c.find("error") is not None]
    assert [c.get("name") for c in errors] == [str(broken)]
    assert root.get("errors") == "1"


def test_hostile_values_stay_well_formed_xml():
    """Control characters, NUL, ESC and bidi overrides XML 1.0 cannot carry are dropped; markup
    stays text. Every hostile finding fails (high, new) against --fail-on high."""
    report = hostile_report(VALUES)
    Gate(Severity.HIGH).record(report)
    root = ET.fromstring(formatters()["junit"]().render(report))
    failures = list(root.iter("failure"))
    assert len(failures) == len(VALUES)
    # each: 10 h x $2.50 = $25.00 a month, $20.00 to save
    assert {f.get("message").split(" (")[0] for f in failures} == {"high: $20.00/month to save"}
    text = ET.tostring(root, encoding="unicode")
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert any("<script>" in (c.get("name") or "") for c in root.iter("testcase"))  # as text
