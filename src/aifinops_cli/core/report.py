"""The report as data: the canonical JSON document every format renders from.

`schema_version` follows semver: a new optional field bumps the minor version, a removed or
renamed field the major. The JSON Schema is shipped at `output/schema/report.schema.json`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aifinops_cli.core.models import Finding, Report, Severity

SCHEMA_VERSION = "1.4.0"  # 1.1: visibility, history, suppressions; 1.2: overlaps; 1.3: unpriced;
# 1.4: economics
UNOWNED = "(unowned)"


def name_adds(resource_id: str, name: str | None) -> bool:
    """Whether a resource's name says something its id does not: not empty, not the id itself
    and not the id's last path segment (`ns/pod` named `pod`). The one label rule of every format."""
    return bool(name) and name != resource_id and not resource_id.endswith(f"/{name}")


def resource_label(resource_id: str, name: str | None) -> str:
    """`id (name)`, or the id alone when the name repeats it (`dgx-03`, `ns/pod` named `pod`)."""
    return f"{resource_id} ({name})" if name_adds(resource_id, name) else resource_id


def _r(x: float) -> float:
    return round(x, 2)


def unpriced_headline(summary: dict[str, Any]) -> str:
    """One sentence for the headline of every format: what the total leaves out, by rule."""
    n = summary.get("unpriced_findings", 0)
    if not n:
        return ""
    kinds = ", ".join(f"{rule} x{count}" for rule, count in summary.get("unpriced_by_rule", {}).items())
    return (
        f"{n} finding(s) have no price for some of what they flag and are not (fully) in the total: {kinds}"
    )


def totals(findings: list[Finding]) -> dict[str, Any]:
    """The fragmentation tax: savings in total and by category, owner, provider and severity.

    A finding whose money another finding already counts (`overlaps`, core/overlap.py) is listed
    but adds nothing: its savings are reported apart as `overlapping_usd`.
    """
    by: dict[str, dict[str, float]] = {
        k: defaultdict(float) for k in ("category", "owner", "provider", "severity", "rule")
    }
    counts: dict[str, int] = defaultdict(int)
    unpriced_by: dict[str, int] = defaultdict(int)
    total = cost = overlapping = 0.0
    overlapping_n = 0
    for f in findings:
        counts[f.severity.value] += 1
        if f.unpriced and not f.overlaps:
            unpriced_by[f.rule_id] += 1
        if f.overlaps:
            overlapping += f.estimated_monthly_savings_usd
            overlapping_n += 1
            continue
        s = f.estimated_monthly_savings_usd
        total += s
        cost += f.monthly_cost_usd
        by["category"][f.category] += s
        by["owner"][f.observation.owner or UNOWNED] += s
        by["provider"][f.observation.provider] += s
        by["severity"][f.severity.value] += s
        by["rule"][f.rule_id] += s

    def ordered(d: dict[str, float]) -> dict[str, float]:
        return {k: _r(v) for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))}

    return {
        "findings": len(findings),
        "findings_by_severity": {s.value: counts.get(s.value, 0) for s in reversed(Severity)},
        "monthly_waste_usd": _r(total),
        "annual_waste_usd": _r(total * 12),
        "monthly_cost_of_flagged_resources_usd": _r(cost),
        "overlapping_findings": overlapping_n,
        "overlapping_usd": _r(overlapping),
        # findings whose price is (partly) unknown: their known part is in the total, the rest
        # is not; counted by rule so the headline can say what the total leaves out
        "unpriced_findings": sum(unpriced_by.values()),
        "unpriced_by_rule": dict(sorted(unpriced_by.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_category": ordered(by["category"]),
        "by_owner": ordered(by["owner"]),
        "by_provider": ordered(by["provider"]),
        "by_severity": ordered(by["severity"]),
        "by_rule": ordered(by["rule"]),
    }


def finding_to_dict(f: Finding) -> dict[str, Any]:
    o = f.observation
    return {
        "fingerprint": f.fingerprint,
        "rule_id": f.rule_id,
        "title": f.title,
        "category": f.category,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "priority": f.priority,
        "provider": o.provider,
        "account": o.account,
        "region": o.region,
        "resource_kind": o.kind,
        "resource_id": o.id,
        "resource_name": o.name,
        "owner": o.owner or None,
        "tags": dict(o.tags),
        "monthly_cost_usd": f.monthly_cost_usd,
        "estimated_monthly_savings_usd": f.estimated_monthly_savings_usd,
        "priced": not f.unpriced,  # false: the two amounts above are lower bounds
        "unpriced_skus": list(f.unpriced),
        "evidence": f.evidence,
        "recommendation": f.recommendation,
        "status": f.status,
        "suppressed": f.suppressed,
        "suppression_reason": f.suppression_reason or None,
        "covers": list(o.covers),
        "overlaps": f.overlaps or None,
    }


def to_dict(report: Report, include_findings: bool = True) -> dict[str, Any]:
    """The report document; `include_findings=False` leaves `findings` an empty list, for a writer
    that streams them (output/json_format.py)."""
    active = report.active_findings
    failed = [c for c in report.coverage if c.status != "ok"]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aifinops", "version": report.tool_version},
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "scanners": report.scanners,
        "parameters": report.parameters,
        "summary": totals(active),
        "new_findings": sum(1 for f in active if f.status == "new"),
        "suppressed_findings": len(report.findings) - len(active),
        "observations": report.observations_count,
        "coverage": {
            "complete": not failed,
            "scopes": [
                {
                    "scanner": c.scanner,
                    "scope": c.scope,
                    "status": c.status,
                    "message": c.message or None,
                    "resources": c.resources,
                    "errors": c.errors,
                }
                for c in report.coverage
            ],
        },
        "unpriced": report.unpriced,
        "findings": [finding_to_dict(f) for f in report.findings] if include_findings else [],
        "analysis": report.analysis,
        "visibility": report.visibility,
        "history": report.history,
        "suppressions": report.suppressions,
        "economics": report.economics,
    }
