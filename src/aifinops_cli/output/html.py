"""HTML: the report a finance partner opens from an email or a CI artifact.

One self-contained file: inline CSS, inline SVG charts, no scripts, no fonts, no images from
anywhere, and a Content-Security-Policy that forbids the browser from fetching anything, so it
opens the same offline, from a file share or from a mail attachment. Pictures for the shape of
the money (by category, by owner, over time), tables where people need the rows.
"""

from __future__ import annotations

from html import escape as _html_escape
from typing import Any

from aifinops_cli.core import economics_view
from aifinops_cli.core.models import HOURS_PER_MONTH, Report
from aifinops_cli.core.money import money, signed_usd, usd
from aifinops_cli.core.report import UNOWNED, to_dict, unpriced_headline
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import plain

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
SEVERITY_COLOUR = {
    "critical": "#8b0000",
    "high": "#c0392b",
    "medium": "#d68910",
    "low": "#2e86c1",
    "info": "#7f8c8d",
}
MAX_BARS = 10
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;
margin:0;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px}
.meta{color:#52606d;font-size:.85em}
.headline{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08);
min-width:180px}
.card .v{font-size:1.7em;font-weight:700}.card .l{color:#52606d;font-size:.85em}
.tax .v{color:#c0392b}.up{color:#c0392b}.down{color:#2f855a}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;
align-items:start}
.panel{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.88em}
th,td{padding:6px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
th{background:#eef2f7}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:.85em}
.muted{color:#7b8794}code{font-size:.9em}
ul.blind li{margin:2px 0}
"""


def escape(value: Any) -> str:
    """HTML-escaped text without control characters (a report `cat` in a terminal stays text)."""
    return _html_escape(plain(value, newlines=True))


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def bar_chart(title: str, data: dict[str, float], total: float) -> str:
    """Horizontal bars, largest first; the rest folded into one 'other' bar."""
    items = list(data.items())
    if len(items) > MAX_BARS:
        rest = sum(v for _, v in items[MAX_BARS - 1 :])
        items = [*items[: MAX_BARS - 1], (f"{len(data) - MAX_BARS + 1} others", rest)]
    if not items:
        return f'<div class="panel"><h2>{escape(title)}</h2><p class="muted">No waste found.</p></div>'
    top = max(v for _, v in items) or 1.0
    row, label_w, bar_w = 26, 170, 210
    height = row * len(items) + 8
    width = label_w + bar_w + 95
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = max(1.0, value / top * bar_w)
        share = value / total * 100 if total else 0.0
        parts.append(
            f"<g><title>{escape(label)}: {usd(value)}/month ({share:.1f}%)</title>"
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="3" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12">{usd(value)}</text></g>'
        )
    parts.append("</svg>")
    return f'<div class="panel"><h2>{escape(title)}</h2>{"".join(parts)}</div>'


def trend_chart(trend: list[dict[str, Any]]) -> str:
    """Stacked columns: monthly waste per recorded run, split by category."""
    if not trend:
        return ""
    categories: list[str] = []
    for point in trend:
        for k in point.get("by_category") or {}:
            if k not in categories:
                categories.append(k)
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(categories)}
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
                f'fill="{colour[cat]}"><title>run {point["run_id"]} {escape(when)}: '
                f"{escape(cat)} {usd(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + col_w / 2}" y="{plot_h + 26}" text-anchor="middle" '
            f'font-size="10">{escape(when[5:])}</text>'
            f'<text x="{x + col_w / 2}" y="{plot_h + 40}" text-anchor="middle" '
            f'font-size="10" fill="#7b8794">#{point["run_id"]}</text>'
        )
    parts.append("</svg>")
    legend = " ".join(
        f'<span><svg width="10" height="10"><rect width="10" height="10" '
        f'fill="{colour[c]}"/></svg> {escape(c)}</span>'
        for c in categories
    )
    totals = ", ".join(f"#{p['run_id']} {usd(p['monthly_waste_usd'])}" for p in trend[-5:])
    return (
        f'<div class="panel"><h2>Monthly waste over time</h2>{"".join(parts)}'
        f'<p class="meta">{legend}</p><p class="meta">Latest runs: {escape(totals)}</p></div>'
    )


def _table(columns: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    """`columns` are (title, numeric); cells are already-escaped HTML."""
    head = "".join(f"<th{' class=n' if num else ''}>{escape(t)}</th>" for t, num in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if columns[i][1] else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sev(s: str) -> str:
    return f'<span class="sev" style="background:{SEVERITY_COLOUR.get(s, "#555")}">{escape(s)}</span>'


def _finding_rows(findings: list[dict[str, Any]], suppressed: bool = False) -> list[list[str]]:
    rows = []
    for f in findings:
        name = f" ({escape(f['resource_name'])})" if f["resource_name"] else ""
        last = escape(f["suppression_reason"] or "") if suppressed else escape(f["status"])
        if f.get("overlaps"):
            last += f'<br><span class="muted">overlaps {escape(f["overlaps"])}: not counted</span>'

        rows.append(
            [
                _sev(f["severity"]),
                escape(f["title"]) + f'<br><code class="muted">{escape(f["rule_id"])}</code>',
                f"<code>{escape(f['resource_id'])}</code>{name}",
                escape(f"{f['provider']} {f['region']}".strip()),
                escape(f["owner"] or UNOWNED),
                money(f["monthly_cost_usd"], not f["priced"]),
                money(f["estimated_monthly_savings_usd"], not f["priced"]),
                escape(f["recommendation"]),
                last,
            ]
        )
    return rows


def _since_last_run(history: dict[str, Any] | None) -> tuple[str, str]:
    """(headline card, section) for the comparison with the previous recorded run."""
    prev = (history or {}).get("previous_run")
    if not prev:
        return "", ""
    d = prev["delta_usd"]
    cls = "up" if d > 0 else "down" if d < 0 else ""
    card = (
        f'<div class="card"><div class="v {cls}">{signed_usd(d)}</div>'
        f'<div class="l">per month since run #{prev["run_id"]}</div></div>'
    )
    c = prev["counts"]
    rows = [
        ["New", str(c["new"]), usd(prev["new_usd"])],
        ["Resolved", str(c["resolved"]), usd(prev["resolved_usd"])],
        ["Changed", str(c["changed"]), signed_usd(prev["changed_usd"], zero="+", symbol="")],
    ]
    if c.get("unseen"):
        rows.append(["Not seen this run (scope not scanned)", str(c["unseen"]), usd(prev["unseen_usd"])])
    section = f"<h2>Since last run (#{prev['run_id']}, {escape(str(prev['finished_at']))})</h2>" + _table(
        [("", False), ("Findings", True), ("Monthly waste", True)], rows
    )
    for title, key in (("New", "new_findings"), ("Resolved", "resolved_findings")):
        items = prev.get(key) or []
        if items:
            section += f"<h3>{title}</h3>" + _table(
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
    return card, section


class HtmlFormatter(Formatter):
    name = "html"
    extension = "html"
    description = "one self-contained page (no network): headline, charts, findings table"

    def render(self, report: Report) -> str:
        doc = to_dict(report)
        s = doc["summary"]
        total = s["monthly_waste_usd"]
        vis = doc.get("visibility")
        delta_card, since = _since_last_run(doc.get("history"))
        cards = [
            f'<div class="card tax"><div class="v" id="monthly-waste">{usd(total)}</div>'
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
        if delta_card:
            cards.append(delta_card)
        charts = [
            bar_chart("Waste by category", s["by_category"], total),
            bar_chart("Waste by owner / team", s["by_owner"], total),
        ]
        trend = (doc.get("history") or {}).get("trend") or []
        if trend:
            charts.append(trend_chart(trend))
        active = [f for f in doc["findings"] if not f["suppressed"]]
        hidden = [f for f in doc["findings"] if f["suppressed"]]
        cols = [
            ("Severity", False),
            ("Finding", False),
            ("Resource", False),
            ("Where", False),
            ("Owner", False),
            ("Cost/month", True),
            ("Savings/month", True),
            ("What to do", False),
        ]
        body = [
            "<h1>AI fragmentation-tax report</h1>",
            f'<p class="meta">aifinops {escape(doc["tool"]["version"])}, '
            f"{escape(str(doc['finished_at']))}; scanners: "
            f"{escape(', '.join(doc['scanners']) or 'none')}; {doc['observations']} resources "
            "observed.</p>",
            f'<div class="headline">{"".join(cards)}</div>',
            (
                f'<p class="up" id="unpriced">{escape(unpriced_headline(s))}</p>'
                if s.get("unpriced_findings")
                else ""
            ),
            f'<div class="charts">{"".join(charts)}</div>',
            since,
            f"<h2>Findings ({len(active)})</h2>",
            _table([*cols, ("Status", False)], _finding_rows(active))
            if active
            else '<p class="muted">No findings.</p>',
        ]
        if hidden:
            body += [
                f"<h2>Suppressed ({len(hidden)}, not counted)</h2>",
                _table([*cols, ("Why suppressed", False)], _finding_rows(hidden, True)),
            ]
        for e in (doc.get("suppressions") or {}).get("expired", []):
            body.append(
                f'<p class="up">Expired suppression {escape(e["source"])} '
                f"({escape(e['selector'])}, {escape(str(e['expires']))}): "
                f"{e['matched']} finding(s) count again.</p>"
            )
        if vis:
            body += [
                "<h2>Visibility coverage</h2>",
                _table(
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
                ),
            ]
            if vis["blind_spots"]:
                body.append(
                    '<ul class="blind">'
                    + "".join(f"<li>{escape(b)}</li>" for b in vis["blind_spots"])
                    + "</ul>"
                )
        body += economics_html(doc.get("economics"))
        failed = [c for c in doc["coverage"]["scopes"] if c["status"] != "ok"]
        if failed:
            body += [
                "<h2>Not scanned</h2>",
                _table(
                    [("Scanner", False), ("Scope", False), ("Status", False), ("Why", False)],
                    [
                        [
                            escape(c["scanner"]),
                            escape(c["scope"]),
                            escape(c["status"]),
                            escape(c["message"] or ""),
                        ]
                        for c in failed
                    ],
                ),
            ]
        catalogs = doc["parameters"].get("price_catalogs", [])
        prices = "; ".join(f"{c.get('catalog')} ({c.get('price_date')})" for c in catalogs)
        body.append(
            f'<p class="meta">Savings are monthly ({HOURS_PER_MONTH:g} hours). Prices: '
            + escape(prices or "none")
            + ".</p>"
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>AI fragmentation tax: {usd(total)}/month</title><style>{CSS}</style>"
            f"</head><body><main>{''.join(body)}</main></body></html>\n"
        )


def economics_html(section: dict[str, Any] | None) -> list[str]:
    """The unit-economics tables (core/economics_view.py), when the report has one."""
    if not section:
        return []
    body = ["<h2>Unit economics</h2>", f'<p class="meta">{escape(economics_view.headline(section))}</p>']
    for view in economics_view.tables(section):
        body += [
            f"<h3>{escape(view.title)}</h3>",
            _table(
                [(c, i > 0) for i, c in enumerate(view.columns)], [[escape(c) for c in r] for r in view.rows]
            ),
        ]
        if view.more:
            body.append(f'<p class="muted">{view.more} more in the JSON report.</p>')
    return body
