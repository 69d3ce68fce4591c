"""Terminal tables (rich): the headline, waste by category, findings by savings, the analysis
digests, what was not scanned, and the headline again at the end where the eye lands."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from aifinops_cli.core import economics_view
from aifinops_cli.core.models import CoverageEntry, Finding, Report
from aifinops_cli.core.money import money, signed_usd, usd
from aifinops_cli.core.report import UNOWNED, resource_label, totals, unpriced_headline
from aifinops_cli.core.rules import severity_ranks
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import plain


def _t(value: Any, style: str = "") -> Text:
    """A data value as a cell: never parsed as rich markup, control characters removed."""
    return Text(plain(value), style=style)


# a terminal shows the largest findings of each category; the rest are one summary row (the
# JSON, CSV, Markdown and HTML reports list every finding). 100,000 rich rows take 80 s.
ROWS_PER_CATEGORY = 200
# below this width a finding's rule and region go under its resource instead of in columns
WIDE = 120
# rows of each analysis digest (spend by team, egress routes...); the other formats have all
DIGEST_ROWS = 5
# scopes listed by name in one "not scanned" note before "and N more"
NOTE_SCOPES = 3
# no commas: a wrapped line of the terminal report never ends in one
EVERY_FORMAT = "every finding is in --format json|csv|markdown|html"
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


@dataclass(frozen=True)
class Column:
    """A terminal column. `drop` orders what goes first when a table is wider than the terminal
    (highest first); 0 never goes. A column whose every cell is blank is never shown."""

    header: str
    justify: JustifyMethod = "left"
    drop: int = 0


@dataclass(frozen=True)
class Digest:
    """An analysis table the terminal shows, compactly: `match` is part of its title
    (case-insensitive); `columns` are kept in this order of importance (empty: all of them,
    left to right), each shown in the table's own order; `dollars` are shown as `$1,234.50`
    and `shares` (fractions of 1) as percentages."""

    match: str
    columns: tuple[str, ...] = ()
    dollars: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()


_SPEND = ("cost USD", "share", "requests")
_COMPONENTS = ("compute/GPU", "model APIs", "storage & vector DBs", "data transfer", "retrieval")
DIGESTS: tuple[Digest, ...] = (
    *(
        Digest(f"LLM spend by {by}", (by, *_SPEND), dollars=("cost USD",), shares=("share",))
        for by in ("team", "app", "customer", "model")
    ),
    Digest(
        "AI spend by owner and component", ("Owner", "Total", *_COMPONENTS), dollars=("Total", *_COMPONENTS)
    ),
    Digest("Top egress flows", ("From", "To", "$/mo", "Class", "GB/mo", "Owners", "AI"), dollars=("$/mo",)),
    Digest("LLM unit economics", ("per", "average cost USD", "count"), dollars=("average cost USD",)),
    Digest("forecast"),
)


# a cell longer than this wraps rather than costing the table a column (a hostile or very long
# resource id must not push the rule and region off a 200-column terminal)
MEASURE_CELL = 48


def _text(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _natural_width(
    columns: Sequence[Column], rows: Sequence[Sequence[Any]], indices: list[int], **layout: Any
) -> int:
    """The table's unwrapped width, each cell's lines counted up to MEASURE_CELL characters."""
    t = Table(**layout)
    for i in indices:
        t.add_column(Text(plain(columns[i].header)))
    for r in rows:
        t.add_row(*(Text("\n".join(x[:MEASURE_CELL] for x in _text(r[i]).split("\n"))) for i in indices))
    return Console(file=io.StringIO(), width=100_000).measure(t).maximum


def fit_table(
    columns: Sequence[Column], rows: Sequence[Sequence[Any]], width: int, **table_args: Any
) -> Table:
    """A rich table that reads at `width`: columns with only blank cells left out, then the
    most droppable columns left out until the rest fit unwrapped (what still does not fit wraps
    inside its cells, never past the edge)."""
    keep = [i for i in range(len(columns)) if any(_text(r[i]).strip() for r in rows)] if rows else []
    keep = keep or list(range(len(columns)))
    layout = {k: v for k, v in table_args.items() if k in ("show_edge", "box", "padding")}
    for i in sorted((i for i in keep if columns[i].drop), key=lambda i: -columns[i].drop):
        if _natural_width(columns, rows, keep, **layout) <= width:
            break
        keep.remove(i)
    t = Table(**table_args)
    for i in keep:
        c = columns[i]
        t.add_column(Text(plain(c.header)), justify=c.justify, overflow="fold")
    for r in rows:
        t.add_row(*(r[i] for i in keep))
    return t


def left_out(
    columns: Sequence[Column], rows: Sequence[Sequence[Any]], table: Table, note: str = ""
) -> Text | None:
    """A dim line naming the columns `fit_table` left out for width (blank ones are not news)."""
    shown = {str(c.header) for c in table.columns}
    gone = [
        c.header
        for i, c in enumerate(columns)
        if c.drop and c.header and c.header not in shown and any(_text(r[i]).strip() for r in rows)
    ]
    if not gone:
        return None
    return Text(f"not shown at this width: {', '.join(plain(h) for h in gone)}{note}", style="dim")


def _marks(f: Finding) -> str:
    """Known (in the baseline) and overlaps (counted by another provider's finding)."""
    return ", ".join(m for m, on in (("known", f.status == "known"), ("overlaps", bool(f.overlaps))) if on)


def _folded(f: Finding) -> bool:
    """A priced finding worth $0.00 a month: one line for all of them, not a table row each
    (an unpriced one stays listed: its amount is unknown, not zero)."""
    return not f.unpriced and not f.overlaps and round(f.estimated_monthly_savings_usd, 2) == 0


def _scope_lines(report: Report) -> tuple[list[CoverageEntry], list[CoverageEntry]]:
    """Scopes that failed (errors: a table) and scopes skipped or partly read (a short note)."""
    failed = [c for c in report.coverage if c.status == "failed"]
    noted = [c for c in report.coverage if c.status in ("skipped", "partial")]
    return failed, noted


def headline(report: Report) -> Panel:
    s = totals(report.active_findings)
    failed, noted = _scope_lines(report)
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
        text.append(f"\n{len(failed)} scope(s) could not be scanned: see Scan errors", style="yellow")
    if noted:
        text.append(f"\n{len(noted)} scope(s) skipped or partly read: see the notes", style="dim")
    return Panel(text, expand=False)


def _breakdown(title: str, data: dict[str, float], total: float, width: int) -> Table:
    columns = [
        Column(title.split()[-1].capitalize()),
        Column("Monthly waste", "right"),
        Column("Share", "right"),
    ]
    rows = [[_t(k), usd(v), f"{(v / total * 100) if total else 0:.0f}%"] for k, v in data.items()]
    return fit_table(columns, rows, width, title=title, title_justify="left", show_edge=False)


def _finding_tables(findings: list[Finding], order: dict[str, int], width: int) -> list[RenderableType]:
    wide = width >= WIDE
    findings = sorted(findings, key=lambda f: f.category)
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
    if wide:
        columns = [
            Column("Sev"),
            Column("Rule", drop=2),
            Column("Resource"),
            Column("Region", drop=3),
            Column("Owner"),
            Column("Cost/mo", "right", drop=4),
            Column("Savings/mo", "right"),
            Column("", drop=1),
        ]
    else:  # the rule and region under the resource: fewer columns, not every cell in ribbons
        columns = [
            Column("Sev"),
            Column("Resource"),
            Column("Owner"),
            Column("Savings/mo", "right"),
            Column(""),
        ]
    parts: list[RenderableType] = []
    for category, group in groupby(findings, key=lambda f: f.category):
        items = list(group)
        counted = sum(f.estimated_monthly_savings_usd for f in items if not f.overlaps)
        rows: list[list[Any]] = []
        for f in items[:ROWS_PER_CATEGORY]:
            o = f.observation
            label = _t(resource_label(o.id, o.name))
            sev = Text(f.severity.value, style=SEVERITY_STYLE[f.severity.value])
            owner = _t(o.owner or UNOWNED)
            savings = money(f.estimated_monthly_savings_usd, bool(f.unpriced))
            if wide:
                cost = money(f.monthly_cost_usd, bool(f.unpriced))
                rows.append([sev, _t(f.rule_id), label, _t(o.region), owner, cost, savings, _marks(f)])
            else:
                # " · ", not ", ": wrapped in a narrow cell, a line would end (or start) in a comma
                label.append("\n" + " · ".join(plain(v) for v in (f.rule_id, o.region) if v), style="dim")
                rows.append([sev, label, owner, savings, _marks(f)])
        rest = items[ROWS_PER_CATEGORY:]
        if rest:
            more = Text(
                f"... {len(rest):,} more {category} findings "
                f"({usd(sum(f.estimated_monthly_savings_usd for f in rest))}/month): {EVERY_FORMAT}",
                style="dim",
            )
            rows.append([more if c.header == "Resource" else "" for c in columns])
        title = _t(f"{category}: {usd(counted)}/month", "italic")
        parts.append(fit_table(columns, rows, width, title=title, title_justify="left"))
    return parts


def _fold_line(folded: list[Finding]) -> Text:
    by_rule = Counter(f.rule_id for f in folded)
    rules = " · ".join(  # not ", ": a wrapped line would end in a comma
        f"{plain(rule)} x{n}" for rule, n in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return Text(f"{len(folded)} finding(s) at $0.00/month: {rules} ({EVERY_FORMAT})", style="dim")


def _cell(value: Any, spec: Digest | None = None, header: str = "") -> str:
    """An analysis value as text: grouped thousands, dollars and shares as the digest says."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return plain(value)
    if spec is not None and header in spec.shares:
        return f"{value * 100:.0f}%"
    if spec is not None and header in spec.dollars:  # cents would round a per-request cost away
        return usd(value, 4 if 0 < abs(value) < 1 else 2)
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def _digest(spec: Digest, table: dict[str, Any], width: int) -> Table | None:
    headers = [str(c) for c in table.get("columns", [])]
    rows = [list(r) for r in table.get("rows", []) if isinstance(r, list | tuple) and len(r) == len(headers)]
    if not headers or not rows:
        return None
    wanted = list(spec.columns) or headers
    keep = [h for h in wanted if h in headers]
    if not keep:
        return None
    shown = [i for i, h in enumerate(headers) if h in keep]  # the table's own column order
    columns = [
        Column(
            headers[i],
            "right" if isinstance(rows[0][i], int | float) else "left",
            drop=keep.index(headers[i]),
        )
        for i in shown
    ]
    top = rows[:DIGEST_ROWS]
    title = plain(table.get("title", ""))
    if len(rows) > len(top):
        title += f" (top {len(top)} of {len(rows)})"
    cells = [[_t(_cell(r[i], spec, headers[i])) for i in shown] for r in top]
    return fit_table(columns, cells, width, title=_t(title, "italic"), title_justify="left", show_edge=False)


def _analysis(report: Report, width: int) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for section in report.analysis.values():
        if not isinstance(section, dict):
            continue
        if section.get("summary"):
            rows = [[_t(k), _t(_cell(v))] for k, v in section["summary"].items()]
            parts.append(
                fit_table(
                    [Column(""), Column("", "right")],
                    rows,
                    width,
                    title=_t(section.get("title", ""), "italic"),
                    title_justify="left",
                    show_header=False,
                    show_edge=False,
                )
            )
        for table in section.get("tables", []) or []:
            if not isinstance(table, dict):
                continue
            title = str(table.get("title", "")).lower()
            spec = next((d for d in DIGESTS if d.match.lower() in title), None)
            digest = _digest(spec, table, width) if spec else None
            if digest is not None:
                parts.append(digest)
    return parts


def _notes(noted: list[CoverageEntry]) -> list[Text]:
    """Skipped and partly read scopes, one line per scanner, status and reason."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for c in noted:
        groups.setdefault((c.status, c.scanner, c.message), []).append(c.scope)
    out = []
    for (status, scanner, message), scopes in groups.items():
        named = ", ".join(plain(s) for s in scopes[:NOTE_SCOPES])
        if len(scopes) > NOTE_SCOPES:
            named += f" and {len(scopes) - NOTE_SCOPES} more"
        what = "Skipped" if status == "skipped" else "Partly read"
        out.append(
            Text(
                f"{what}: {plain(scanner)} {named}" + (f": {plain(message)}" if message else ""),
                style="yellow",
            )
        )
    return out


def renderables(report: Report, width: int = 140) -> list[RenderableType]:
    """Narrow terminals get fewer columns rather than every cell wrapped into ribbons."""
    active = report.active_findings
    s = totals(active)
    folded = [f for f in active if _folded(f)]
    listed = [f for f in active if not _folded(f)]
    parts: list[RenderableType] = [headline(report)]
    if listed:
        categories = {f.category for f in listed}
        owners = {f.observation.owner or UNOWNED for f in listed}
        by_category = {k: v for k, v in s["by_category"].items() if k in categories}
        by_owner = {k: v for k, v in s["by_owner"].items() if k in owners}
        parts.append(_breakdown("Waste by category", by_category, s["monthly_waste_usd"], width))
        parts.append(_breakdown("Waste by owner", by_owner, s["monthly_waste_usd"], width))
    order = {k: i for i, k in enumerate(s["by_category"])}
    parts += _finding_tables(listed, order, width)
    if folded:
        parts.append(_fold_line(folded))
    parts += _analysis(report, width)
    parts += economics_renderables(report.economics, width)
    failed, noted = _scope_lines(report)
    if failed:
        rows = [[_t(c.scanner), _t(c.scope), _t(c.message)] for c in failed]
        columns = [Column("Scanner"), Column("Scope"), Column("Why")]
        parts.append(
            fit_table(columns, rows, width, title="Scan errors", title_justify="left", title_style="yellow")
        )
    parts += _notes(noted)
    if report.unpriced:
        parts.append(
            Text(
                f"{len(report.unpriced)} item(s) had no price and are not counted: "
                "see the JSON or Markdown report.",
                style="yellow",
            )
        )
    parts.append(headline(report))  # again at the end: a long report scrolls the first one away
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


# the unit-economics columns kept at any width (the first of a name), beside the row's name: what
# it costs, earns and keeps, and the cheaper model with what it saves
ECONOMICS_KEEP = frozenset(
    {"Revenue", "AI cost", "Cost", "Margin", "Current", "Cheaper model", "saves", "Amount"}
)


def _numeric(cells: Any) -> bool:
    """A column of amounts, counts or shares (right-aligned), not of names."""
    return all(str(c)[:1] in "$+-0123456789" or str(c) in ("", "n/a") for c in cells)


def economics_renderables(section: dict[str, Any] | None, width: int = 140) -> list[Any]:
    """The unit-economics tables (core/economics_view.py), when the report has one. Too wide for
    the terminal, the other columns go from the right (a ten-column table at 80 columns would
    otherwise fold every amount into ribbons); --format json/markdown/html have them all."""
    if not section:
        return []
    parts: list[Any] = [Text(economics_view.headline(section), style="bold")]
    for view in economics_view.tables(section):
        kept = [
            i == 0 or (h in ECONOMICS_KEEP and h not in view.columns[:i]) for i, h in enumerate(view.columns)
        ]
        columns = [
            Column(h, "right" if i and _numeric(r[i] for r in view.rows) else "left", 0 if kept[i] else i)
            for i, h in enumerate(view.columns)
        ]
        rows = [[_t(c) for c in row] for row in view.rows]
        t = fit_table(columns, rows, width, title=_t(view.title, "italic"), title_justify="left")
        parts.append(t)
        gone = left_out(columns, rows, t, " (see --format json, markdown or html)")
        if gone is not None:
            parts.append(gone)
        if view.more:
            parts.append(Text(f"{view.more} more in the JSON report.", style="dim"))
    return parts


def print_economics(console: Console, section: dict[str, Any]) -> None:
    """`aifinops economics` in a terminal: the section alone."""
    console.print(Group(*economics_renderables(section, console.width)))
