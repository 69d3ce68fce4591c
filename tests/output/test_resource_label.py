"""One label rule in every format: a resource's name is printed beside its id only when it says
something the id does not (core/report.py `name_adds`), never `dgx-03 (dgx-03)` or `ns/pod (pod)`."""

from __future__ import annotations

import csv
import io

from aifinops_cli.core.models import Confidence, Finding, Observation, Report, Severity
from aifinops_cli.core.report import name_adds, resource_label
from aifinops_cli.output.csv_format import CsvFormatter
from aifinops_cli.output.html import HtmlFormatter
from aifinops_cli.output.markdown import MarkdownFormatter
from aifinops_cli.output.table import TableFormatter

# (id, name): the same name, the id's last path segment, a name that adds something
RESOURCES = [
    ("dgx-03", "dgx-03"),
    ("research/jupyter-kim-0", "jupyter-kim-0"),
    ("i-0abc", "notebook-jane"),
]


def _report() -> Report:
    findings = [
        Finding(
            rule_id="test-idle",
            title="Idle test resource",
            category="idle-compute",
            severity=Severity.HIGH,
            confidence=Confidence.HIGH,
            observation=Observation(
                provider="aws", kind="aws.ec2.instance", id=rid, region="us-east-1", name=name
            ),
            monthly_cost_usd=100.0,
            estimated_monthly_savings_usd=100.0,
            recommendation="Stop it.",
            evidence={},
        )
        for rid, name in RESOURCES
    ]
    return Report(
        tool_version="0",
        started_at="2026-11-30T00:00:00+00:00",
        finished_at="2026-11-30T00:00:01+00:00",
        scanners=["test"],
        findings=findings,
        coverage=[],
    )


def test_rule() -> None:
    assert resource_label("dgx-03", "dgx-03") == "dgx-03"
    assert resource_label("research/jupyter-kim-0", "jupyter-kim-0") == "research/jupyter-kim-0"
    assert resource_label("i-0abc", "notebook-jane") == "i-0abc (notebook-jane)"
    assert resource_label("i-0abc", None) == "i-0abc"
    # a name that merely ends like the id's tail is not the tail: it is shown
    assert name_adds("ns/my-pod", "pod")


def test_markdown_names_only_what_the_id_does_not_say() -> None:
    text = MarkdownFormatter().render(_report())
    assert "(dgx-03)" not in text
    assert "(jupyter-kim-0)" not in text
    assert "`i-0abc` (notebook-jane)" in text


def test_csv_name_column_is_empty_when_it_repeats_the_id() -> None:
    rows = list(csv.DictReader(io.StringIO(CsvFormatter().render(_report()))))
    names = {r["resource_id"]: r["resource_name"] for r in rows}
    assert names == {"dgx-03": "", "research/jupyter-kim-0": "", "i-0abc": "notebook-jane"}


def test_html_names_only_what_the_id_does_not_say() -> None:
    text = HtmlFormatter().render(_report())
    assert "<code>dgx-03</code><br>dgx-03" not in text
    assert "<code>research/jupyter-kim-0</code><br>jupyter-kim-0" not in text
    assert "<code>i-0abc</code><br>notebook-jane" in text


def test_terminal_names_only_what_the_id_does_not_say() -> None:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, color_system=None)
    TableFormatter().print_to(_report(), console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "dgx-03 (dgx-03)" not in text
    assert "(jupyter-kim-0)" not in text
    assert "i-0abc (notebook-jane)" in text
