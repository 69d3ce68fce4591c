"""Terminal tables (rich): the headline, waste by category, findings by savings, coverage gaps."""

from __future__ import annotations

import io
from itertools import groupby
from typing import Any

from rich.console import Console, Group, JustifyMethod
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from aifinops_cli.core import economics_view
from aifinops_cli.core.models import Finding, Report
from aifinops_cli.core.money import money, signed_usd, usd
from aifinops_cli.core.report import UNOWNED, totals, unpriced_headline
from aifinops_cli.core.rules import severity_ranks
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import plain


def _t(value: Any, style: str = "") -> Text:
    """A data value as a cell: never parsed as rich markup, control characters removed."""
    return Text(plain(value), style=style)


# a terminal shows the largest findings of each category; the rest are one summary row (the
# JSON, CSV, Markdown and HTML reports list every finding). 100,000 rich rows take 80 s.
ROWS_PER_CATEGORY = 200
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _marks(f: Finding) -> str:
    """Known (in the baseline) and overlaps (counted by another provider's finding)."""
    return ", ".join(m for m, on in (("known", f.status == "known"), ("overlaps", bool(f.overlaps))) if on)


def headline(report: Report) -> Panel:
    s = totals(report.active_findings)
    failed = sum(1 for c in report.coverage if c.status != "ok")
    text = Text()
    text.append("Fragmentation tax: ", style="bold")
    text.append(f"{usd(s['monthly_waste_usd'])}/month", style="bold red")
    text.append(f"  ({usd(s['annual_waste_usd'])}/year) in {s['findings']} findings")
    if s["unpriced_findings"]:
        text.append(f"\n{unpriced_headline(s)}", style="yellow")
    if s["overlapping_findings"]:
        text.append(
            f"\n{s['overlapping_findings']} finding(s) ({usd(s['overlapping_usd'])}) price "
            "machines another provider's finding already counts: not added again",
            style="dim",
        )
    previous = (report.history or {}).get("previous_run") or {}
    change = previous.get("delta_usd")
    if isinstance(change, int | float):
        text.append(
            f"\nsince the last run: {signed_usd(change, zero='+')}/month",
            style="red" if change > 0 else "green",
        )
    if report.visibility and "score" in report.visibility:
        blind = [a["title"] for a in report.visibility.get("areas", []) if a.get("score", 100) < 50]
        text.append(f"\nvisibility: {report.visibility['score']}/100 of the AI data path")
        if blind:
            text.append(f" (blind spots: {', '.join(blind)})", style="yellow")
    if failed:
        text.append(f"\n{failed} scope(s) could not be scanned: see coverage below", style="yellow")
    return Panel(text, expand=False)


def _breakdown(title: str, data: dict[str, float], total: float) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False)
    t.add_column(title.split()[-1].capitalize())
    t.add_column("Monthly waste", justify="right")
    t.add_column("Share", justify="right")
    for k, v in data.items():
        t.add_row(_t(k), usd(v), f"{(v / total * 100) if total else 0:.0f}%")
    return t


def renderables(report: Report, width: int = 140) -> list[Any]:
    """Narrow terminals get fewer columns rather than every cell wrapped into ribbons."""
    wide = width >= 120
    s = totals(report.active_findings)
    parts: list[Any] = [headline(report)]
    if s["findings"]:
        parts.append(_breakdown("Waste by category", s["by_category"], s["monthly_waste_usd"]))
        parts.append(_breakdown("Waste by owner", s["by_owner"], s["monthly_waste_usd"]))
    findings = sorted(report.active_findings, key=lambda f: f.category)
    order = {k: i for i, k in enumerate(s["by_category"])}
    # by savings; an unpriced finding by severity first (core/rules.severity_ranks), so one
    # with no known dollars is not cut off below ROWS_PER_CATEGORY
    ranks: dict[int, float] = {}
    for _, group in groupby(findings, key=lambda f: f.category):
        ranks.update(severity_ranks(list(group), lambda f: f.estimated_monthly_savings_usd))
    findings.sort(
        key=lambda f: (
            order.get(f.category, 99),
            -ranks.get(id(f), f.estimated_monthly_savings_usd),
            not f.unpriced,
        )
    )
    for category, group in groupby(findings, key=lambda f: f.category):
        items = list(group)
        counted = sum(f.estimated_monthly_savings_usd for f in items if not f.overlaps)
        t = Table(
            title=_t(f"{category}: {usd(counted)}/month", "italic"), title_justify="left", show_lines=False
        )
        columns: list[tuple[str, JustifyMethod]] = [
            ("Sev", "left"),
            ("Rule", "left"),
            ("Resource", "left"),
            ("Region", "left"),
            ("Owner", "left"),
            ("Cost/mo", "right"),
            ("Savings/mo", "right"),
            ("", "left"),
        ]
        if not wide:
            columns = [c for c in columns if c[0] not in ("Rule", "Region", "Cost/mo")]
        for col, just in columns:
            t.add_column(col, justify=just, overflow="fold")
        for f in items[:ROWS_PER_CATEGORY]:
            o = f.observation
            resource = o.id + (f" ({o.name})" if o.name else "")
            cells: list[str | Text] = [
                Text(f.severity.value, style=SEVERITY_STYLE[f.severity.value]),
                _t(f.rule_id),
                _t(resource),
                _t(o.region),
                _t(o.owner or UNOWNED),
                money(f.monthly_cost_usd, bool(f.unpriced)),
                money(f.estimated_monthly_savings_usd, bool(f.unpriced)),
                _marks(f),
            ]
            if not wide:
                label = _t(resource)
                label.append(f"\n{plain(f.rule_id)}, {plain(o.region)}", style="dim")
                cells = [cells[0], label, *cells[4:5], *cells[6:]]
            t.add_row(*cells)
        rest = items[ROWS_PER_CATEGORY:]
        if rest:
            more = Text(
                f"... {len(rest):,} more {category} findings "
                f"({usd(sum(f.estimated_monthly_savings_usd for f in rest))}/month): "
                "every finding is in --format json, csv, markdown or html",
                style="dim",
            )
            t.add_row("", more, *([""] * (len(columns) - 2)))
        parts.append(t)
    for section in report.analysis.values():
        if isinstance(section, dict) and section.get("summary"):
            t = Table(
                title=_t(section.get("title", ""), "italic"),
                title_justify="left",
                show_header=False,
                show_edge=False,
            )
            t.add_column()
            t.add_column(justify="right")
            for k, v in section["summary"].items():
                t.add_row(_t(k), _t(f"{v:,.2f}" if isinstance(v, float) else v))
            parts.append(t)
    parts += economics_renderables(report.economics)
    failed = [c for c in report.coverage if c.status != "ok"]
    if failed:
        t = Table(title="Not scanned", title_justify="left", title_style="yellow")
        for col in ("Scanner", "Scope", "Status", "Why"):
            t.add_column(col, overflow="fold")
        for c in failed:
            t.add_row(_t(c.scanner), _t(c.scope), _t(c.status), _t(c.message))
        parts.append(t)
    if report.unpriced:
        parts.append(
            Text(
                f"{len(report.unpriced)} item(s) had no price and are not counted: "
                "see the JSON or Markdown report.",
                style="yellow",
            )
        )
    return parts


class TableFormatter(Formatter):
    name = "table"
    extension = "txt"
    description = "rich tables for a terminal, grouped by category and sorted by savings"

    def print_to(self, report: Report, console: Console) -> None:
        console.print(Group(*renderables(report, console.width)))

    def render(self, report: Report) -> str:
        buf = io.StringIO()
        self.print_to(report, Console(file=buf, width=140, no_color=True, force_terminal=False))
        return buf.getvalue()


def economics_renderables(section: dict[str, Any] | None) -> list[Any]:
    """The unit-economics tables (core/economics_view.py), when the report has one."""
    if not section:
        return []
    parts: list[Any] = [Text(economics_view.headline(section), style="bold")]
    for view in economics_view.tables(section):
        t = Table(title=_t(view.title, "italic"), title_justify="left")
        for i, col in enumerate(view.columns):
            t.add_column(col, justify="left" if i == 0 else "right", overflow="fold")
        for row in view.rows:
            t.add_row(*[_t(c) for c in row])
        parts.append(t)
        if view.more:
            parts.append(Text(f"{view.more} more in the JSON report.", style="dim"))
    return parts


def print_economics(console: Console, section: dict[str, Any]) -> None:
    """`aifinops economics` in a terminal: the section alone."""
    console.print(Group(*economics_renderables(section)))
