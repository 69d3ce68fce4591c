"""HTML: the report a finance partner opens from an email or a CI artifact.

One self-contained file: inline CSS, inline SVG charts and CSS bars, no scripts, no fonts, no
images from anywhere, and a Content-Security-Policy that forbids the browser from fetching
anything, so it opens the same offline, from a file share or from a mail attachment. Pictures for
the shape of the money (by category, by owner, over time, per analysis table), tables where people
need the rows; every table scrolls inside its own box so a wide one never widens the page.

The page is a list of sections (`SECTIONS`), each one function from the report's dict to HTML.
An `analysis` section is drawn by `render_analysis_section` unless `ANALYSIS_RENDERERS` names a
function for its key. A category has one colour wherever it appears (`category_colour`).
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from html import escape as _html_escape
from typing import Any

from aifinops_cli.core import economics_view
from aifinops_cli.core.models import HOURS_PER_MONTH, Report
from aifinops_cli.core.money import money, signed_usd, usd
from aifinops_cli.core.report import UNOWNED, name_adds, to_dict, unpriced_headline
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import plain

# One colour per finding category (core/rules.py CATEGORIES), the same in every chart and legend.
CATEGORY_COLOUR = {
    "zombie-infrastructure": "#e15759",
    "idle-cluster": "#f28e2b",
    "orphaned-storage": "#4e79a7",
    "data-egress": "#76b7b2",
    "model-misuse": "#b07aa1",
    "agent-overhead": "#edc948",
    "duplicate-spend": "#ff9da7",
    "budget": "#9c755f",
    "attribution": "#bab0ac",
    "duplicate-capability": "#59a14f",
    "anomaly": "#8cd17d",
    "rightsizing": "#79706e",
    "unit-economics": "#d37295",
}
# categories a user's own rules add: a stable colour from the name, never one of the above
EXTRA_COLOURS = ("#499894", "#86bcb6", "#d4a6c8", "#f1ce63", "#a0cbe8", "#ffbe7d", "#d7b5a6")
NEUTRAL = "#5f7a99"  # bars that are not categories (teams, models, routes)
SEVERITY_COLOUR = {
    "critical": "#8b0000",
    "high": "#c0392b",
    "medium": "#d68910",
    "low": "#2e86c1",
    "info": "#7f8c8d",
}
MAX_BARS = 10
LABEL_CHARS = 40  # a bar's label is cut to this many characters (its tooltip has all of it)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# analysis-table columns a bar chart is drawn from, first match wins
CHART_COLUMNS = ("cost USD", "$/mo", "wasted USD / month", "Total")

CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;
margin:0;background:#f5f7fa}
main{max-width:1600px;margin:0 auto;padding:24px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px}
h3{font-size:1em;margin:18px 0 6px}
.meta{color:#52606d;font-size:.85em}
.headline{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08);
min-width:180px}
.card .v{font-size:1.7em;font-weight:700}.card .l{color:#52606d;font-size:.85em}
.tax .v{color:#c0392b}.up{color:#c0392b}.down{color:#2f855a}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:16px;
align-items:start;margin:12px 0}
.panel{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08);
min-width:0}
.panel h2,.panel h3{margin-top:4px}
.scroll{overflow-x:auto;max-width:100%;margin:0 0 12px;border-radius:6px;
box-shadow:0 1px 3px rgba(0,0,0,.06)}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.88em}
th,td{padding:6px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
th{background:#eef2f7;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td code{overflow-wrap:anywhere}
table.findings td.what{min-width:18em}
table.summary{width:100%}.kv{display:inline-block;min-width:min(40%,100%)}
table.summary th{font-weight:normal;color:#52606d}
table.findings td.res{min-width:9em;max-width:20em;overflow-wrap:anywhere}
table.findings td.what,table.findings td.fnd{overflow-wrap:anywhere}table.findings td.fnd{min-width:12em}
table.findings td.where{min-width:5em}.nw{white-space:nowrap}
.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:.85em;white-space:nowrap}
.muted{color:#7b8794}code{font-size:.9em;background:#f0f3f7;border-radius:3px;padding:0 3px}
.legend span{margin-right:12px;white-space:nowrap}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.meter{display:inline-block;width:120px;height:10px;background:#e4e7eb;border-radius:5px;
vertical-align:middle;margin-left:8px;overflow:hidden}
.meter span{display:block;height:100%;background:#c0392b}
.meter span.ok{background:#2f855a}
ul.blind li{margin:2px 0}
"""


def escape(value: Any) -> str:
    """HTML-escaped text without control characters (a report `cat` in a terminal stays text)."""
    return _html_escape(plain(value, newlines=True))


def category_colour(category: str) -> str:
    """The one colour of a finding category, in every chart of the page."""
    known = CATEGORY_COLOUR.get(category)
    if known:
        return known
    return EXTRA_COLOURS[zlib.crc32(category.encode()) % len(EXTRA_COLOURS)]


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_LINK = re.compile(r"\[([^\]\[]+)\]\((https?://[^\s()]+)\)")


@lru_cache(maxsize=1024)
def inline_markdown(text: str) -> str:
    """The Markdown a recommendation uses (`code`, **bold**, [links](https://...)) as HTML.

    Everything is escaped first, then the marks are found in the escaped text, so no value can
    add a tag or an attribute; a link is made only for http(s) and never inside a code span."""
    parts = _CODE.split(escape(text))
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{part}</code>")
            continue
        part = _LINK.sub(r'<a href="\2" rel="noopener noreferrer">\1</a>', part)
        out.append(_BOLD.sub(r"<strong>\1</strong>", part))
    return "".join(out)


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def legend(categories: list[str]) -> str:
    return (
        '<p class="meta legend">'
        + "".join(
            f'<span><i class="sw" data-category="{escape(c)}" style="background:{category_colour(c)}">'
            f"</i>{escape(c)}</span>"
            for c in categories
        )
        + "</p>"
    )


def bar_chart(
    title: str,
    data: dict[str, float] | dict[str, dict[str, float]],
    total: float,
    by_category: bool = False,
    fmt: Callable[[float], str] = usd,
    heading: str = "h2",
) -> str:
    """Horizontal bars, largest first; the rest folded into one 'other' bar.

    `data` maps a label to a value, or to {category: value} for a bar stacked by category (its
    segments in the category colours). `by_category`: the labels are categories, each bar in its
    colour; otherwise plain bars are the neutral colour, so no team or model looks like one."""
    stacks: list[tuple[str, dict[str, float]]] = [
        (k, dict(v) if isinstance(v, dict) else {"": v}) for k, v in data.items()
    ]
    stacks.sort(key=lambda kv: -sum(kv[1].values()))
    folded = ""
    if len(stacks) > MAX_BARS:
        rest: dict[str, float] = defaultdict(float)
        for _, parts in stacks[MAX_BARS - 1 :]:
            for k, v in parts.items():
                rest[k] += v
        folded = f"{len(stacks) - MAX_BARS + 1} others"
        stacks = [*stacks[: MAX_BARS - 1], (folded, dict(rest))]
    if not stacks or not any(sum(p.values()) for _, p in stacks):
        empty = '<p class="muted">No waste found.</p>'
        return f'<div class="panel"><{heading}>{escape(title)}</{heading}>{empty}</div>'
    top = max(sum(p.values()) for _, p in stacks) or 1.0
    longest = max(len(_short(label, LABEL_CHARS)) for label, _ in stacks)
    row, label_w, bar_w = 26, min(300, max(110, 7 * longest + 12)), 250
    height = row * len(stacks) + 8
    width = label_w + bar_w + 100
    out = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, parts) in enumerate(stacks):
        y = 4 + i * row
        value = sum(parts.values())
        share = value / total * 100 if total else 0.0
        out.append(
            f"<g><title>{escape(label)}: {fmt(value)}/month ({share:.1f}%)</title>"
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"{escape(_short(label, LABEL_CHARS))}</text>"
        )
        x = float(label_w)
        for cat, v in sorted(parts.items(), key=lambda kv: -kv[1]):
            w = v / top * bar_w
            if w <= 0:
                continue
            tip = f"<title>{escape(label)}, {escape(cat)}: {fmt(v)}</title>" if cat else ""
            category = cat or (label if by_category and label != folded else "")
            fill = category_colour(category) if category else NEUTRAL
            mark = f' data-category="{escape(category)}"' if category else ""
            out.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 1.0):.1f}" height="{row - 8}" '
                f'fill="{fill}"{mark}>{tip}</rect>'
            )
            x += w
        out.append(
            f'<text x="{max(x, label_w + 1.0) + 6:.1f}" y="{y + 16}" font-size="12">{fmt(value)}</text></g>'
        )
    out.append("</svg>")
    cats = sorted(
        {c for _, p in stacks for c in p if c}, key=lambda c: -sum(p.get(c, 0.0) for _, p in stacks)
    )
    return (
        f'<div class="panel"><{heading}>{escape(title)}</{heading}>{"".join(out)}'
        f"{legend(cats) if cats else ''}</div>"
    )


def trend_chart(trend: list[dict[str, Any]]) -> str:
    """Stacked columns: monthly waste per recorded run, split by category."""
    if not trend:
        return ""
    categories: list[str] = []
    for point in trend:
        for k in point.get("by_category") or {}:
            if k not in categories:
                categories.append(k)
    top = max((p["monthly_waste_usd"] for p in trend), default=0.0) or 1.0
    left, plot_h, col_w, gap = 80, 180, 26, 10
    width = max(300, left + len(trend) * (col_w + gap) + 20)
    parts = [
        f'<svg role="img" aria-label="Monthly waste over time" width="{width}" '
        f'height="{plot_h + 50}" viewBox="0 0 {width} {plot_h + 50}" '
        'style="max-width:100%;height:auto">',
        "<title>Monthly waste over time</title>",
    ]
    for frac in (0.0, 0.5, 1.0):
        y = 10 + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left - 4}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e4e7eb"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{usd(top * frac)}</text>"
        )
    for i, point in enumerate(trend):
        x = left + i * (col_w + gap)
        y = 10 + plot_h
        when = str(point.get("finished_at") or "")[:10]
        for cat, value in (point.get("by_category") or {}).items():
            h = value / top * plot_h
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{col_w}" height="{h:.1f}" '
                f'fill="{category_colour(cat)}" data-category="{escape(cat)}">'
                f"<title>run {point['run_id']} {escape(when)}: "
                f"{escape(cat)} {usd(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + col_w / 2}" y="{plot_h + 26}" text-anchor="middle" '
            f'font-size="10">{escape(when[5:])}</text>'
            f'<text x="{x + col_w / 2}" y="{plot_h + 40}" text-anchor="middle" '
            f'font-size="10" fill="#7b8794">#{point["run_id"]}</text>'
        )
    parts.append("</svg>")
    totals = ", ".join(f"#{p['run_id']} {usd(p['monthly_waste_usd'])}" for p in trend[-5:])
    return (
        f'<div class="panel"><h2>Monthly waste over time</h2>{"".join(parts)}'
        f'{legend(categories)}<p class="meta">Latest runs: {escape(totals)}</p></div>'
    )


def table(
    columns: list[tuple[str, bool]], rows: list[list[str]], cls: str = "", cell_cls: tuple[str, ...] = ()
) -> str:
    """A table in its own scrolling box. `columns` are (title, numeric); cells are escaped HTML;
    `cell_cls` names a class per column (the findings table's wrapping columns)."""

    opens = []
    for i, (_, numeric) in enumerate(columns):
        names = " ".join(n for n in ("n" if numeric else "", cell_cls[i] if i < len(cell_cls) else "") if n)
        opens.append(f'<td class="{names}">' if names else "<td>")
    head = "".join(f"<th{' class=n' if num else ''}>{escape(t)}</th>" for t, num in columns)
    body = "".join("<tr>" + "".join(opens[i] + c + "</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<div class="scroll"><table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


@lru_cache(maxsize=64)
def _sev(s: str) -> str:
    return f'<span class="sev" style="background:{SEVERITY_COLOUR.get(s, "#555")}">{escape(s)}</span>'


def _resource(f: dict[str, Any]) -> str:
    """The resource id, and its name when it says something the id does not."""
    name = f.get("resource_name") or ""
    extra = f"<br>{escape(name)}" if name_adds(f["resource_id"], name) else ""
    return f"<code>{escape(f['resource_id'])}</code>{extra}"


FINDING_COLUMNS = [
    ("Severity", False),
    ("Finding", False),
    ("Resource", False),
    ("Where", False),
    ("Owner", False),
    ("Cost/month", True),
    ("Savings/month", True),
    ("What to do", False),
]
FINDING_CELLS = ("", "fnd", "res", "where", "", "", "", "what", "")


@lru_cache(maxsize=1024)
def _rule_cell(title: str, rule_id: str) -> str:
    """A finding's title and rule id (cached: a big report repeats them per rule)."""
    return escape(title) + f'<br><code class="muted">{escape(rule_id)}</code>'


def _finding_rows(findings: list[dict[str, Any]], suppressed: bool = False) -> list[list[str]]:
    rows = []
    for f in findings:
        last = escape(f["suppression_reason"] or "") if suppressed else escape(f["status"])
        if f.get("overlaps"):
            last += f'<br><span class="muted">overlaps {escape(f["overlaps"])}: not counted</span>'
        where = escape(f["provider"])
        if f["region"]:  # a region never breaks at its hyphens
            where += f'<br><span class="nw">{escape(f["region"])}</span>'
        rows.append(
            [
                _sev(f["severity"]),
                _rule_cell(f["title"], f["rule_id"]),
                _resource(f),
                where,
                escape(f["owner"] or UNOWNED),
                money(f["monthly_cost_usd"], not f["priced"]),
                money(f["estimated_monthly_savings_usd"], not f["priced"]),
                inline_markdown(str(f["recommendation"] or "")),
                last,
            ]
        )
    return rows


def counted(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings whose savings are in the totals (core/report.py `totals`)."""
    return [f for f in doc["findings"] if not f["suppressed"] and not f.get("overlaps")]


def owner_by_category(doc: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Counted savings per owner, split by category: the stacked owner bars."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in counted(doc):
        out[f["owner"] or UNOWNED][f["category"]] += f["estimated_monthly_savings_usd"]
    return {k: dict(v) for k, v in out.items()}


# -- sections: each takes the report's dict and returns its HTML ("" when it has nothing) -------


def header_section(doc: dict[str, Any]) -> str:
    return (
        "<h1>AI fragmentation-tax report</h1>"
        f'<p class="meta">aifinops {escape(doc["tool"]["version"])}, '
        f"{escape(str(doc['finished_at']))}; scanners: "
        f"{escape(', '.join(doc['scanners']) or 'none')}; {doc['observations']} resources "
        "observed.</p>"
    )


def headline_section(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    vis = doc.get("visibility")
    cards = [
        f'<div class="card tax"><div class="v" id="monthly-waste">{usd(s["monthly_waste_usd"])}</div>'
        f'<div class="l">fragmentation tax per month</div></div>',
        f'<div class="card"><div class="v" id="annual-waste">{usd(s["annual_waste_usd"])}'
        f'</div><div class="l">a year at this rate</div></div>',
        f'<div class="card"><div class="v" id="findings">{s["findings"]}</div>'
        f'<div class="l">findings ({doc["suppressed_findings"]} suppressed)</div></div>',
    ]
    if vis:
        cards.append(
            f'<div class="card"><div class="v" id="visibility">{vis["score"]}/100'
            '</div><div class="l">of the AI data path visible</div></div>'
        )
    prev = (doc.get("history") or {}).get("previous_run")
    if prev:
        d = prev["delta_usd"]
        cls = "up" if d > 0 else "down" if d < 0 else ""
        cards.append(
            f'<div class="card"><div class="v {cls}">{signed_usd(d)}</div>'
            f'<div class="l">per month since run #{prev["run_id"]}</div></div>'
        )
    unpriced = (
        f'<p class="up" id="unpriced">{escape(unpriced_headline(s))}</p>'
        if s.get("unpriced_findings")
        else ""
    )
    return f'<div class="headline">{"".join(cards)}</div>{unpriced}'


def charts_section(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    total = s["monthly_waste_usd"]
    charts = [
        bar_chart("Waste by category", s["by_category"], total, by_category=True),
        bar_chart("Waste by owner / team", owner_by_category(doc), total),
    ]
    trend = (doc.get("history") or {}).get("trend") or []
    if trend:
        charts.append(trend_chart(trend))
    return f'<div class="charts">{"".join(charts)}</div>'


def since_last_run_section(doc: dict[str, Any]) -> str:
    """The comparison with the previous recorded run (scan --record)."""
    prev = (doc.get("history") or {}).get("previous_run")
    if not prev:
        return ""
    c = prev["counts"]
    rows = [
        ["New", str(c["new"]), usd(prev["new_usd"])],
        ["Resolved", str(c["resolved"]), usd(prev["resolved_usd"])],
        ["Changed", str(c["changed"]), signed_usd(prev["changed_usd"], zero="+", symbol="")],
    ]
    if c.get("unseen"):
        rows.append(["Not seen this run (scope not scanned)", str(c["unseen"]), usd(prev["unseen_usd"])])
    section = f"<h2>Since last run (#{prev['run_id']}, {escape(str(prev['finished_at']))})</h2>" + table(
        [("", False), ("Findings", True), ("Monthly waste", True)], rows
    )
    for title, key in (("New", "new_findings"), ("Resolved", "resolved_findings")):
        items = prev.get(key) or []
        if items:
            section += f"<h3>{title}</h3>" + table(
                [
                    ("Severity", False),
                    ("Rule", False),
                    ("Resource", False),
                    ("Owner", False),
                    ("Monthly waste", True),
                ],
                [
                    [
                        _sev(i["severity"]),
                        escape(i["rule_id"]),
                        f"<code>{escape(i['resource_id'])}</code>",
                        escape(i["owner"]),
                        usd(i["monthly_savings_usd"]),
                    ]
                    for i in items
                ],
            )
    return section


def findings_section(doc: dict[str, Any]) -> str:
    active = [f for f in doc["findings"] if not f["suppressed"]]
    if not active:
        return '<h2>Findings (0)</h2><p class="muted">No findings.</p>'
    return f'<h2 id="findings-table">Findings ({len(active)})</h2>' + table(
        [*FINDING_COLUMNS, ("Status", False)], _finding_rows(active), "findings", FINDING_CELLS
    )


def suppressed_section(doc: dict[str, Any]) -> str:
    """Suppressed findings with the reason and the file that suppressed each, and expired entries."""
    hidden = [f for f in doc["findings"] if f["suppressed"]]
    out = []
    if hidden:
        worth = sum(f["estimated_monthly_savings_usd"] for f in hidden)
        out += [
            f'<h2 id="suppressed">Suppressed ({len(hidden)}, not counted): {usd(worth)}/month</h2>',
            table(
                [*FINDING_COLUMNS, ("Why suppressed", False)],
                _finding_rows(hidden, True),
                "findings",
                FINDING_CELLS,
            ),
        ]
    for e in (doc.get("suppressions") or {}).get("expired", []):
        out.append(
            f'<p class="up">Expired suppression {escape(e["source"])} '
            f"({escape(e['selector'])}, {escape(str(e['expires']))}): "
            f"{e['matched']} finding(s) count again.</p>"
        )
    return "".join(out)


def budgets_section(doc: dict[str, Any]) -> str:
    """Budgets projected to be exceeded (llm.budget findings): budget, month to date, projection."""
    rows = []
    for f in doc["findings"]:
        if f.get("resource_kind") != "llm.budget":
            continue
        e = f["evidence"]
        pct = float(e.get("projected_pct") or 0.0)
        fill = min(pct, 100.0)
        over = "" if pct >= 100 else "ok"
        meter = f'<span class="meter"><span class="{over}" style="width:{fill:.0f}%"></span></span>'
        rows.append(
            [
                escape(e.get("dimension", "")),
                escape(e.get("name", "")),
                escape(e.get("month", "")),
                usd(e.get("budget_usd")),
                usd(e.get("month_to_date_usd")),
                usd(e.get("projected_usd")),
                f"{pct:,.0f}%{meter}",
                _sev(f["severity"]) + (" (suppressed)" if f["suppressed"] else ""),
            ]
        )
    if not rows:
        return ""
    return '<h2 id="budgets">Budgets</h2>' + table(
        [
            ("Budget for", False),
            ("Name", False),
            ("Month", False),
            ("Budget", True),
            ("Month to date", True),
            ("Projected", True),
            ("Of budget", True),
            ("Severity", False),
        ],
        rows,
    )


def _cell(column: str, value: Any) -> str:
    """An analysis-table cell: counts grouped, shares as %, small amounts with enough digits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape("" if value is None else value)
    if isinstance(value, int):
        return f"{value:,}"
    if column.lower() == "share":
        return f"{value * 100:.1f}%"
    if value == 0 or abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _numeric(rows: list[list[Any]], i: int) -> bool:
    cells = [r[i] for r in rows if i < len(r) and r[i] not in (None, "")]
    return bool(cells) and all(isinstance(c, int | float) and not isinstance(c, bool) for c in cells)


def analysis_chart(t: dict[str, Any]) -> str:
    """A bar chart of an analysis table's money column (CHART_COLUMNS) by its first column, or
    by route (From -> To) for flows; "" when the table has no such column or under two rows."""
    columns = [str(c) for c in t.get("columns", [])]
    rows = [list(r) for r in t.get("rows", [])]
    col = next((columns.index(c) for c in CHART_COLUMNS if c in columns), None)
    if col is None or col == 0 or len(rows) < 2 or not _numeric(rows, col):
        return ""
    data: dict[str, float] = defaultdict(float)
    for r in rows:
        if str(r[0]).strip().lower() == "total":
            continue  # a table's own total row would count everything twice
        if "From" in columns and "To" in columns:
            label = f"{r[columns.index('From')]} → {r[columns.index('To')]}"
            if "Class" in columns:
                label = f"{r[columns.index('Class')]}: {label}"
        else:
            label = str(r[0])
        data[label] += float(r[col] or 0.0)
    total = sum(data.values())
    if total <= 0:
        return ""
    return bar_chart(
        t["title"],
        dict(data),
        total,
        fmt=lambda v: usd(v, 2 if v >= 1 else 4),
        heading="h3",
    )


def render_analysis_section(key: str, section: dict[str, Any]) -> str:
    """Any scanner's analysis section: its summary, a chart for each money table, each table."""
    out = [f'<h2 id="analysis-{escape(key)}">{escape(section["title"])}</h2>']
    summary = section.get("summary") or {}
    if summary:
        pairs = "".join(
            f"<tr><th>{escape(k)}</th><td>{_cell(str(k), v)}</td></tr>" for k, v in summary.items()
        )
        out.append(f'<div class="scroll kv"><table class="summary"><tbody>{pairs}</tbody></table></div>')
    charts = [c for c in (analysis_chart(t) for t in section.get("tables", [])) if c]
    if charts:
        out.append(f'<div class="charts">{"".join(charts)}</div>')
    for t in section.get("tables", []):
        columns = [str(c) for c in t["columns"]]
        rows = [list(r) for r in t["rows"]]
        out.append(f"<h3>{escape(t['title'])}</h3>")
        out.append(
            table(
                [(c, _numeric(rows, i)) for i, c in enumerate(columns)],
                [[_cell(columns[i] if i < len(columns) else "", v) for i, v in enumerate(r)] for r in rows],
            )
        )
    return "".join(out)


ANALYSIS_RENDERERS: dict[str, Callable[[str, dict[str, Any]], str]] = {}
"""A key of `analysis` drawn by its own function instead of `render_analysis_section`."""


def analysis_sections(doc: dict[str, Any]) -> str:
    out = []
    for key, section in (doc.get("analysis") or {}).items():
        if not isinstance(section, dict) or "title" not in section:
            continue
        out.append(ANALYSIS_RENDERERS.get(key, render_analysis_section)(key, section))
    return "".join(out)


def visibility_section(doc: dict[str, Any]) -> str:
    vis = doc.get("visibility")
    if not vis:
        return ""
    out = "<h2>Visibility coverage</h2>" + table(
        [("Area", False), ("Score", True), ("Status", False), ("Scanners", False)],
        [
            [
                escape(a["title"]),
                str(a["score"]),
                escape(a["status"]),
                escape(", ".join(a["scanners"]) or "none"),
            ]
            for a in vis["areas"]
        ],
    )
    if vis["blind_spots"]:
        out += '<ul class="blind">' + "".join(f"<li>{escape(b)}</li>" for b in vis["blind_spots"]) + "</ul>"
    return out


def coverage_section(doc: dict[str, Any]) -> str:
    failed = [c for c in doc["coverage"]["scopes"] if c["status"] != "ok"]
    if not failed:
        return ""
    return "<h2>Not scanned</h2>" + table(
        [("Scanner", False), ("Scope", False), ("Status", False), ("Why", False)],
        [
            [escape(c["scanner"]), escape(c["scope"]), escape(c["status"]), escape(c["message"] or "")]
            for c in failed
        ],
    )


def method_section(doc: dict[str, Any]) -> str:
    catalogs = doc["parameters"].get("price_catalogs", [])
    prices = "; ".join(f"{c.get('catalog')} ({c.get('price_date')})" for c in catalogs)
    return (
        f'<p class="meta">Savings are monthly ({HOURS_PER_MONTH:g} hours). Prices: '
        + escape(prices or "none")
        + ".</p>"
    )


def economics_html(section: dict[str, Any] | None) -> list[str]:
    """The unit-economics tables (core/economics_view.py), when the report has one."""
    if not section:
        return []
    body = ["<h2>Unit economics</h2>", f'<p class="meta">{escape(economics_view.headline(section))}</p>']
    for view in economics_view.tables(section):
        body += [
            f"<h3>{escape(view.title)}</h3>",
            table(
                [(c, i > 0) for i, c in enumerate(view.columns)], [[escape(c) for c in r] for r in view.rows]
            ),
        ]
        if view.more:
            body.append(f'<p class="muted">{view.more} more in the JSON report.</p>')
    return body


def economics_section(doc: dict[str, Any]) -> str:
    return "".join(economics_html(doc.get("economics")))


SECTIONS: list[Callable[[dict[str, Any]], str]] = [
    header_section,
    headline_section,
    charts_section,
    since_last_run_section,
    findings_section,
    suppressed_section,
    budgets_section,
    analysis_sections,
    economics_section,
    visibility_section,
    coverage_section,
    method_section,
]
"""The page, top to bottom."""


def render_doc(doc: dict[str, Any]) -> str:
    """The page for a report's dict (`core/report.py` to_dict, or a JSON report read back)."""
    total = doc["summary"]["monthly_waste_usd"]
    body = "".join(section(doc) for section in SECTIONS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>AI fragmentation tax: {usd(total)}/month</title><style>{CSS}</style>"
        f"</head><body><main>{body}</main></body></html>\n"
    )


class HtmlFormatter(Formatter):
    name = "html"
    extension = "html"
    description = "one self-contained page (no network): headline, charts, findings and analysis tables"

    def render(self, report: Report) -> str:
        return render_doc(to_dict(report))
