"""Markdown: the fragmentation-tax report people paste into a wiki, a PR or a job summary."""

from __future__ import annotations

from typing import Any

from aifinops_cli.core import economics_view
from aifinops_cli.core.models import HOURS_PER_MONTH, Report
from aifinops_cli.core.money import money, signed_usd, usd
from aifinops_cli.core.report import UNOWNED, name_adds, to_dict, unpriced_headline
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import Md, md_code, md_text

TOP_FINDINGS = 10


def cell(value: Any) -> str:
    """One table cell: numbers formatted, text escaped (see output/safe.py), `Md` as built."""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, Md):
        return value
    return md_text(value)


def table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def share_rows(breakdown: dict[str, float], total: float) -> list[list[Any]]:
    return [[k, usd(v), f"{(v / total * 100) if total else 0:.1f}%"] for k, v in breakdown.items()]


def _evidence_lines(evidence: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in evidence.items():
        if key in ("cost_basis", "thresholds", "notes"):
            continue
        lines.append(f"  - {md_text(key)}: {md_code(value)}")
    for note in evidence.get("notes", []):
        lines.append(f"  - {md_text(note)}")
    for cl in evidence.get("cost_basis", []):
        disc = f" less {cl['discount_pct']:g}%" if cl.get("discount_pct") else ""
        lines.append(
            f"  - cost: {md_text(cl['description'])}: ${cl['unit_price_usd']:g}/"
            f"{md_text(cl['unit'])} x {cl['quantity']:g}{disc} = {usd(cl['monthly_usd'])}/month "
            f"({md_text(cl['source'])}, {md_text(cl['price_date'])}, {md_code(cl['sku'])})"
        )
    if evidence.get("thresholds"):
        th = ", ".join(f"{k}={v}" for k, v in evidence["thresholds"].items())
        lines.append(f"  - thresholds: {md_text(th)}")
    return lines


def render_analysis(analysis: dict[str, Any], heading: str = "##") -> list[str]:
    out: list[str] = []
    for section in analysis.values():
        if not isinstance(section, dict) or "title" not in section:
            continue
        out += [f"{heading} {md_text(section['title'])}", ""]
        summary = section.get("summary") or {}
        if summary:
            out += table(["", ""], [[k, v] for k, v in summary.items()]) + [""]
        for t in section.get("tables", []):
            out += [f"**{md_text(t['title'])}**", ""]
            out += table(list(t["columns"]), [list(r) for r in t["rows"]]) + [""]
    return out


def _name(i: dict[str, Any]) -> str:
    """` (name)` after the id, when the name says something the id does not (core/report.py)."""
    name = i.get("resource_name")
    return f" ({md_text(name)})" if name_adds(i["resource_id"], name) else ""


def _who(i: dict[str, Any]) -> Md:
    return Md(md_code(i["resource_id"], table=True) + _name(i))


def render_since_last_run(history: dict[str, Any] | None) -> list[str]:
    """New, resolved and changed findings against the previous like run (scan --record)."""
    prev = (history or {}).get("previous_run")
    if not prev:
        return []
    c = prev["counts"]
    out = [
        "## Since last run",
        "",
        f"Compared with run {prev['run_id']} ({prev['finished_at']}): "
        f"**{signed_usd(prev['delta_usd'])}/month** ({usd(prev['previous_monthly_waste_usd'])} → "
        f"{usd(prev['monthly_waste_usd'])}).",
        "",
    ]
    rows = [
        ["New", c["new"], signed_usd(prev["new_usd"])],
        ["Resolved", c["resolved"], signed_usd(-prev["resolved_usd"])],
        ["Changed", c["changed"], signed_usd(prev["changed_usd"])],
    ]
    if c.get("unseen"):
        rows.append(["Not seen this run (scope not scanned)", c["unseen"], signed_usd(-prev["unseen_usd"])])
    out += table(["", "Findings", "Monthly waste"], rows) + [""]
    for title, key in (
        ("New", "new_findings"),
        ("Resolved", "resolved_findings"),
        ("Not seen this run", "unseen_findings"),
    ):
        items = prev.get(key) or []
        if items:
            out += [f"**{title}**", ""]
            out += table(
                ["Severity", "Rule", "Resource", "Owner", "Monthly waste"],
                [
                    [i["severity"], i["rule_id"], _who(i), i["owner"], usd(i["monthly_savings_usd"])]
                    for i in items[:TOP_FINDINGS]
                ],
            ) + [""]
    if prev.get("changed_findings"):
        out += ["**Changed**", ""]
        out += table(
            ["Rule", "Resource", "Before", "After", "What changed"],
            [
                [
                    i["rule_id"],
                    _who(i),
                    usd(i["previous_monthly_savings_usd"]),
                    usd(i["monthly_savings_usd"]),
                    ", ".join(f"{k}: {a} → {b}" for k, (a, b) in i["changes"].items()),
                ]
                for i in prev["changed_findings"][:TOP_FINDINGS]
            ],
        ) + [""]
    return out


def render_visibility(visibility: dict[str, Any] | None) -> list[str]:
    """What the scan could see of the AI data path, and the blind spots."""
    if not visibility:
        return []
    out = [
        "## Visibility coverage",
        "",
        f"**{visibility['score']}/100** of the AI data path was visible to this scan; "
        "what it could not see is not in the totals.",
        "",
    ]
    out += table(
        ["Area", "Score", "Status", "Scanners"],
        [
            [a["title"], a["score"], a["status"], ", ".join(a["scanners"]) or "none"]
            for a in visibility["areas"]
        ],
    ) + [""]
    if visibility["blind_spots"]:
        out += ["Blind spots:", ""] + [f"- {md_text(b)}" for b in visibility["blind_spots"]] + [""]
    return out


def render_suppressed(findings: list[dict[str, Any]]) -> list[str]:
    """Which findings a suppression file holds back, what they are worth and the reason it gives
    (with its file:line), so a reviewer sees what is excused, not only how many."""
    held = [f for f in findings if f["suppressed"]]
    if not held:
        return []
    worth = sum(f["estimated_monthly_savings_usd"] for f in held)
    out = [
        "## Suppressed findings",
        "",
        f"{len(held)} finding(s) worth {usd(worth)}/month are suppressed: not in the totals, and "
        "they never fail the gate.",
        "",
    ]
    out += table(
        ["Rule", "Resource", "Owner", "Monthly waste", "Why suppressed"],
        [
            [
                f["rule_id"],
                _who(f),
                f["owner"] or UNOWNED,
                money(f["estimated_monthly_savings_usd"], not f["priced"]),
                f["suppression_reason"] or "",
            ]
            for f in held
        ],
    )
    return [*out, ""]


class MarkdownFormatter(Formatter):
    name = "markdown"
    extension = "md"
    description = "the fragmentation-tax report: headline, breakdowns, top findings, coverage"

    def render(self, report: Report) -> str:
        doc = to_dict(report)
        s = doc["summary"]
        total = s["monthly_waste_usd"]
        out = [
            "# AI fragmentation-tax report",
            "",
            f"**{usd(total)} per month** ({usd(s['annual_waste_usd'])} a year) of AI spend is "
            f"leaking out through {s['findings']} findings.",
            "",
            f"Generated by aifinops {doc['tool']['version']} at {doc['finished_at']}; scanners: "
            f"{md_text(', '.join(doc['scanners'])) or 'none'}; {doc['observations']} resources "
            "observed.",
            "",
        ]
        sev = s["findings_by_severity"]
        out += ["Findings by severity: " + ", ".join(f"{k} {v}" for k, v in sev.items()), ""]
        if doc["new_findings"] != s["findings"]:
            out += [f"New since the baseline: {doc['new_findings']}.", ""]
        if doc["suppressed_findings"]:
            out += [
                f"Suppressed (not counted): {doc['suppressed_findings']}. Each is listed with its "
                "reason under *Suppressed findings*.",
                "",
            ]
        if s.get("unpriced_findings"):
            out += [f"**Partial total:** {unpriced_headline(s)}.", ""]
        if s.get("overlapping_findings"):
            out += [
                f"Counted once: {s['overlapping_findings']} finding(s) worth "
                f"{usd(s['overlapping_usd'])}/month price machines that another provider's "
                "finding already counts (a Kubernetes node that is also a cloud instance); "
                "they are listed, marked *overlaps*, and left out of the totals.",
                "",
            ]
        for e in (doc.get("suppressions") or {}).get("expired", []):
            out += [
                f"Expired suppression at {md_text(e['source'])} ({md_text(e['selector'])}, "
                f"{md_text(e['expires'])}): "
                f"{e['matched']} finding(s) count again.",
                "",
            ]
        out += render_since_last_run(doc.get("history"))
        for title, key in (
            ("By category", "by_category"),
            ("By owner / team", "by_owner"),
            ("By provider", "by_provider"),
        ):
            out += [f"## {title}", ""]
            label = title.split()[-1].capitalize() if key != "by_owner" else "Owner"
            out += table([label, "Monthly waste", "Share"], share_rows(s[key], total)) + [""]
        if s["by_owner"].get(UNOWNED):
            out += [
                f"{usd(s['by_owner'][UNOWNED])} of the waste has no owner tag "
                f"(owner tag keys: "
                f"{md_text(', '.join(map(str, doc['parameters'].get('owner_tag_keys', []))))}).",
                "",
            ]
        findings = [f for f in doc["findings"] if not f["suppressed"]]
        out += [f"## Top {min(TOP_FINDINGS, len(findings))} findings", ""]
        for n, f in enumerate(findings[:TOP_FINDINGS], 1):
            out += [
                f"### {n}. {md_text(f['title'])}: {md_code(f['resource_id'])}{_name(f)}",
                "",
                f"- **{money(f['estimated_monthly_savings_usd'], not f['priced'])}/month** to save of "
                f"{money(f['monthly_cost_usd'], not f['priced'])}/month; severity {f['severity']}, "
                f"confidence {f['confidence']}, rule {md_code(f['rule_id'])}",
                f"- {md_text(f['provider'])} {md_text(f['account'])} {md_text(f['region'])}, "
                f"owner: {md_text(f['owner'] or UNOWNED)}",
                *(
                    [
                        f"- overlaps finding {md_code(f['overlaps'])}, which already counts this "
                        "machine: not in the totals"
                    ]
                    if f.get("overlaps")
                    else []
                ),
                "- evidence:",
                *_evidence_lines(f["evidence"]),
                f"- what to do: {md_text(f['recommendation'])}",
                "",
            ]
        if findings:
            out += ["## All findings", ""]
            out += table(
                ["Severity", "Rule", "Resource", "Region", "Owner", "Monthly cost", "Savings", "Status"],
                [
                    [
                        f["severity"],
                        f["rule_id"],
                        f["resource_id"],
                        f["region"],
                        f["owner"] or UNOWNED,
                        money(f["monthly_cost_usd"], not f["priced"]),
                        money(f["estimated_monthly_savings_usd"], not f["priced"]),
                        f["status"] + (", overlaps" if f.get("overlaps") else ""),
                    ]
                    for f in findings
                ],
            ) + [""]
        out += render_suppressed(doc["findings"])
        out += render_analysis(doc["analysis"])
        out += render_visibility(doc.get("visibility"))
        out += economics_lines(doc.get("economics"))
        out += ["## Coverage", ""]
        scopes = doc["coverage"]["scopes"]
        failed = [c for c in scopes if c["status"] != "ok"]
        if not failed:
            out += [f"All {len(scopes)} scopes were scanned.", ""]
        else:
            out += [
                f"{len(failed)} of {len(scopes)} scopes were not (fully) scanned; the totals "
                "above leave them out:",
                "",
            ]
            out += table(
                ["Scanner", "Scope", "Status", "Why"],
                [[c["scanner"], c["scope"], c["status"], c["message"]] for c in failed],
            )
            out += [""]
        ok = [c for c in scopes if c["status"] == "ok"]
        if ok:
            out += table(
                ["Scanner", "Scope", "Resources", "Notes"],
                [[c["scanner"], c["scope"], c["resources"], c["message"] or ""] for c in ok],
            )
            out += [""]
        if doc["unpriced"]:
            out += [
                f"{len(doc['unpriced'])} items had no price in any catalog and are not "
                "counted in the totals:",
                "",
            ]
            out += table(
                ["Scanner", "Resource", "SKU"],
                [[u.get("scanner"), u.get("resource_id"), u.get("sku")] for u in doc["unpriced"]],
            ) + [""]
        out += ["## Method", ""]
        out += [
            f"Savings are monthly ({HOURS_PER_MONTH:g} hours) at the prices below; priority = savings x "
            "severity weight x confidence weight.",
            "",
        ]
        if s.get("unpriced_findings"):
            out += [
                "Unpriced findings rank by severity first: each takes the priority of the "
                "strongest priced finding of its severity or lower (its own if higher) and "
                "sorts just ahead of it; no "
                "dollar is estimated for them and the totals hold only their known part.",
                "",
            ]
        out += table(
            ["Catalog", "Price date", "Source"],
            [
                [c["catalog"], c["price_date"], c["source"]]
                for c in doc["parameters"].get("price_catalogs", [])
            ],
        ) + [""]
        return "\n".join(out).rstrip() + "\n"


def economics_lines(section: dict[str, Any] | None, heading: str = "##") -> list[str]:
    """The unit-economics section (core/economics_view.py), when the report has one."""
    if not section:
        return []
    out = [f"{heading} Unit economics", "", md_text(economics_view.headline(section)), ""]
    for t in economics_view.tables(section):
        out += [f"{heading}# {md_text(t.title)}", ""] + table(list(t.columns), [list(r) for r in t.rows])
        out += ["", f"{t.more} more in the JSON report."] if t.more else []
        out += [""]
    if section.get("skipped"):
        out += ["Skipped input lines: " + md_text("; ".join(section["skipped"][:5])), ""]
    return out


def economics_markdown(section: dict[str, Any]) -> str:
    """`aifinops economics --format markdown`: the section alone."""
    return "\n".join(["# AI unit economics", "", *economics_lines(section)]).rstrip() + "\n"
