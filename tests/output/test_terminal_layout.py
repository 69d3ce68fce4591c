"""The terminal report reads at 80 and 200 columns: no line past the edge, no empty column, no
name printed twice, no dangling comma, $0 findings folded, the headline at the end too.

The report is the session demo run's (tests/conftest.py `demo_dir`), rebuilt from its JSON, so
these tests follow whatever the demo estate becomes; the small hand-made reports pin the
arithmetic of the folded line and the notes."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

from aifinops_cli.core.models import Confidence, CoverageEntry, Finding, Observation, Report, Severity
from aifinops_cli.core.report import resource_label
from aifinops_cli.output.table import DIGEST_ROWS, TableFormatter, fit_table, renderables
from aifinops_cli.output.table import Column as Col


def report_from_json(doc: dict[str, Any]) -> Report:
    """The Report a JSON report was written from (what every format renders), field by field."""
    findings = []
    for f in doc["findings"]:
        o = Observation(
            provider=f["provider"],
            kind=f["resource_kind"],
            id=f["resource_id"],
            account=f["account"],
            region=f["region"],
            name=f["resource_name"],
            tags=f["tags"],
            owner=f["owner"] or "",
            covers=tuple(f["covers"]),
            unpriced=tuple(f["unpriced_skus"]),
        )
        findings.append(
            Finding(
                rule_id=f["rule_id"],
                title=f["title"],
                category=f["category"],
                severity=Severity(f["severity"]),
                confidence=Confidence(f["confidence"]),
                observation=o,
                monthly_cost_usd=f["monthly_cost_usd"],
                estimated_monthly_savings_usd=f["estimated_monthly_savings_usd"],
                recommendation=f["recommendation"],
                evidence=f["evidence"],
                status=f["status"],
                suppressed=f["suppressed"],
                suppression_reason=f["suppression_reason"] or "",
                overlaps=f["overlaps"] or "",
            )
        )
    coverage = [
        CoverageEntry(c["scanner"], c["scope"], c["status"], c["message"] or "", c["resources"], c["errors"])
        for c in doc["coverage"]["scopes"]
    ]
    return Report(
        tool_version=doc["tool"]["version"],
        started_at=doc["started_at"],
        finished_at=doc["finished_at"],
        scanners=doc["scanners"],
        findings=findings,
        coverage=coverage,
        observations_count=doc["observations"],
        analysis=doc["analysis"],
        parameters=doc["parameters"],
        unpriced=doc["unpriced"],
        history=doc["history"],
        suppressions=doc["suppressions"],
        visibility=doc["visibility"],
        economics=doc.get("economics"),
    )


@pytest.fixture(scope="module")
def demo_doc(demo_dir: Path) -> dict[str, Any]:
    return json.loads((demo_dir / "aifinops-report.json").read_text())


def _print(report: Report, width: int) -> tuple[str, list[Any]]:
    console = Console(width=width, record=True, no_color=True, file=io.StringIO())
    TableFormatter().print_to(report, console)
    return console.export_text(), renderables(report, width)


def _cells(column: Any) -> list[str]:
    return [c.plain if hasattr(c, "plain") else str(c) for c in column.cells]


@pytest.mark.parametrize("width", [80, 200])
def test_demo_terminal_layout(demo_doc: dict[str, Any], width: int) -> None:
    report = report_from_json(demo_doc)
    text, parts = _print(report, width)
    lines = text.splitlines()
    too_long = [line for line in lines if len(line) > width]
    assert not too_long, too_long[:3]
    tables = [p for p in parts if isinstance(p, Table)]
    assert len(tables) >= 3  # breakdowns and at least one category
    for t in tables:
        for column in t.columns:
            assert any(c.strip() for c in _cells(column)), (t.title, column.header)
    assert not [line for line in lines if re.search(r"(?<!\S)(\S+) \(\1\)", line)]
    # no row ends in a comma (an empty region after "rule,"); the economics section's sentences
    # (its headline, a title's parameters, a cell's list of files) wrap at a comma as prose does
    prose = next((i for i, line in enumerate(lines) if line.startswith("AI cost $")), len(lines))
    assert not [line for line in lines[:prose] if line.rstrip().endswith(",")]
    # nor inside a table's cell: a wrapped "rule, region" left a comma at a cell's edge
    cells = [c.strip() for line in lines[:prose] for c in re.split("[│┃]", line)]
    assert not [c for c in cells if c.endswith(",") or c.startswith(",")]
    total = demo_doc["summary"]["monthly_waste_usd"]
    headline = f"Fragmentation tax: ${total:,.2f}/month"
    assert headline in "\n".join(lines[-15:])
    assert headline in "\n".join(lines[:3])


def test_demo_zero_findings_fold_into_one_line(demo_doc: dict[str, Any]) -> None:
    zero = [
        f
        for f in demo_doc["findings"]
        if f["priced"]
        and not f["overlaps"]
        and not f["suppressed"]
        and round(f["estimated_monthly_savings_usd"], 2) == 0
    ]
    text, _ = _print(report_from_json(demo_doc), 200)
    if zero:
        assert text.count(f"{len(zero)} finding(s) at $0.00/month: ") == 1
    for f in zero:  # not one row each
        assert f["resource_id"] not in text


def test_demo_analysis_digests_in_the_terminal(demo_doc: dict[str, Any]) -> None:
    """Spend by team (and the other digests) appear as compact top-N tables."""
    text, _ = _print(report_from_json(demo_doc), 80)
    tables = {
        t["title"]: t
        for s in demo_doc["analysis"].values()
        if isinstance(s, dict)
        for t in s.get("tables", [])
    }
    team = tables.get("LLM spend by team")
    if team is None:
        pytest.skip("the demo has no LLM spend by team")
    top = team["rows"][0]
    name, cost = top[team["columns"].index("team")], top[team["columns"].index("cost USD")]
    title = f"LLM spend by team (top {DIGEST_ROWS} of {len(team['rows'])})"
    assert title in text
    after = text[text.index(title) :].splitlines()
    row = next(line for line in after if f" {name} " in line)
    assert (f"${cost:,.4f}" if 0 < cost < 1 else f"${cost:,.2f}") in row  # under $1: 4 places


def _finding(
    rule: str, rid: str, name: str, savings: float, region: str = "", category: str = "c"
) -> Finding:
    o = Observation(provider="k8s", kind="k8s.node", id=rid, name=name, region=region, owner="ml")
    return Finding(rule, rule, category, Severity.HIGH, Confidence.HIGH, o, savings, savings, "fix it", {})


def _report(findings: list[Finding], coverage: list[CoverageEntry]) -> Report:
    return Report("0", "s", "f", ["k8s"], findings, coverage)


def test_folded_zero_findings_notes_and_names() -> None:
    report = _report(
        [
            _finding("idle-node", "dgx-03", "dgx-03", 9344.0),  # 4 x $3.20 x 730 h = 9,344.00
            _finding("idle-pod", "ns/pod-a", "pod-a", 1168.0, region="us-east-1"),  # $1.60 x 730
            _finding("retry", "r1", "", 0.0, category="z"),
            _finding("retry", "r2", "", 0.004, category="z"),  # rounds to $0.00
            _finding("untagged", "u1", "", 0.0, category="z"),
        ],
        [
            CoverageEntry("k8s", "ctx-a", "ok"),
            CoverageEntry("aws.ec2", "ap-east-1", "skipped", "region not enabled"),
            CoverageEntry("aws.ec2", "me-south-1", "skipped", "region not enabled"),
            CoverageEntry("llm", "logs.jsonl", "partial", "1 of 200 records unparseable"),
            CoverageEntry("gcp.compute", "proj-x", "failed", "403 permission denied"),
        ],
    )
    text, parts = _print(report, 80)
    # 9,344.00 + 1,168.00 + 0.004 = 10,512.004 -> $10,512.00
    assert text.count("Fragmentation tax: $10,512.00/month") == 2
    assert "3 finding(s) at $0.00/month: retry x2 · untagged x1" in text
    assert "dgx-03 (dgx-03)" not in text and "dgx-03" in text
    assert "ns/pod-a (pod-a)" not in text and "ns/pod-a" in text
    assert "z: $0.00/month" not in text  # the $0 category has no table of its own
    assert "Skipped: aws.ec2 ap-east-1, me-south-1: region not enabled" in text
    assert "Partly read: llm logs.jsonl: 1 of 200 records unparseable" in text
    errors = [p for p in parts if isinstance(p, Table) and p.title == "Scan errors"]
    assert len(errors) == 1 and _cells(errors[0].columns[1]) == ["proj-x"]
    assert "1 scope(s) could not be scanned" in text and "3 scope(s) skipped or partly read" in text
    assert not [line for line in text.splitlines() if line.rstrip().endswith(",")]


def test_fit_table_drops_blank_then_low_priority_columns() -> None:
    columns = [Col("Name"), Col("Empty", drop=1), Col("Wide", drop=2), Col("Money", "right")]
    rows = [["a", "", "x" * 60, "$1.00"], ["b", " ", "y" * 60, "$2.00"]]
    wide = fit_table(columns, rows, 200)
    assert [str(c.header) for c in wide.columns] == ["Name", "Wide", "Money"]
    narrow = fit_table(columns, rows, 40)
    assert [str(c.header) for c in narrow.columns] == ["Name", "Money"]


def test_resource_label() -> None:
    assert resource_label("dgx-03", "dgx-03") == "dgx-03"
    assert resource_label("research/jupyter-kim-0", "jupyter-kim-0") == "research/jupyter-kim-0"
    assert resource_label("i-0abc", "notebook-jane") == "i-0abc (notebook-jane)"
    assert resource_label("i-0abc", "") == "i-0abc"


def test_digest_top_rows_dollars_and_shares() -> None:
    teams = [["research", 115, 9.6441, 0.8945], ["cx", 36, 0.4982, 0.0462]]
    teams += [[f"t{n}", 1, 0.01, 0.001] for n in range(6)]
    report = _report([], [])
    report.analysis = {
        "llm": {
            "title": "LLM request logs",
            "summary": {"requests": 3442396},
            "tables": [
                {
                    "title": "LLM spend by team",
                    "columns": ["team", "requests", "cost USD", "share"],
                    "rows": teams,
                },
                {"title": "LLM price table (USD per 1M tokens)", "columns": ["model"], "rows": [["m"]]},
            ],
        }
    }
    text, _ = _print(report, 80)
    assert "LLM spend by team (top 5 of 8)" in text  # 2 + 6 rows, 5 shown
    assert "3,442,396" in text  # thousands grouped
    research = next(line for line in text.splitlines() if " research " in line)
    assert "$9.64" in research and "89%" in research  # 0.8945 x 100 = 89.45 -> 89%
    cx = next(line for line in text.splitlines() if " cx " in line)
    assert "$0.4982" in cx and "5%" in cx  # under $1: 4 places; 0.0462 -> 5%
    assert " t4 " not in text  # the sixth row and after: only in the other formats
    assert "LLM price table" not in text  # not a terminal digest


def test_demo_unit_economics_reads_at_80_columns(demo_doc: dict[str, Any]) -> None:
    """The unit-economics tables keep the name, cost, revenue and margin whole at 80 columns and
    name the columns they leave out, rather than fold ten columns of amounts into ribbons."""
    section = demo_doc.get("economics")
    if not section:
        pytest.skip("the demo has no economics section")
    text, _ = _print(report_from_json(demo_doc), 80)
    start = text.index("Unit economics by customer")
    customers = text[start : text.index("not shown at this width", start)]
    assert max(len(line) for line in text.splitlines()) <= 80
    for c in section["units"]["customer"][:3]:
        # each amount on one line, as the JSON has it rounded to cents
        assert f"${c['total_cost_usd']:,.2f}" in customers, c["name"]
    assert "Cost of failed" in text[start : start + 2000]  # named in the left-out note
