"""Shared infrastructure lines to allocate: where they come from and whom they name.

Sources, in this order (README "Unit economics"):
1. a billing export in the same report: its "AI spend by owner and component" (compute/GPU,
   storage & vector DBs, data transfer, retrieval), per month. Its "model APIs" column is left
   out: the request logs already count that money, per request;
2. without a billing export, the infrastructure findings of the report (GPU instances, node
   pools, disks...): each resource's monthly cost with its owner and tags. Findings another
   finding already counts (overlaps) and suppressed ones are skipped, and so are LLM and billing
   findings (the logs and the export are counted above);
3. `economics.allocation.shared` lines from config (a vector store bill, a retrieval cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.models import Report

BILLING_TABLE = "AI spend by owner and component"
SKIPPED_COMPONENTS = ("model APIs",)  # the logs price model APIs per request
UNTAGGED = "(untagged)"
# tag keys that name a unit directly (compared case-insensitively)
TAG_UNITS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "tenant", "customer_id", "tenant_id"),
    "feature": ("feature",),
    "app": ("app", "application", "service", "app.kubernetes.io/name"),
    "team": ("team", "owner", "cost-center", "project"),
}


@dataclass(frozen=True)
class InfraLine:
    source: str  # where the amount comes from: "billing export ...", a finding's rule and resource
    resource: str
    monthly_usd: float
    owner: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    unit: tuple[str, str] | None = None  # named by config: (customer|feature|app|team, value)


def _billing_lines(billing: dict[str, Any]) -> list[InfraLine]:
    """Each export's AI spend by owner and component, over that export's own months: two exports
    of different lengths (60 days of FOCUS, a month of CUR) are each a month of their own."""
    out = []
    for src in (billing.get("data") or {}).get("sources") or []:
        months = float((src.get("period") or {}).get("months") or 0) or 1.0
        name = str(src.get("source", "")) or "billing export"
        for item in src.get("ai_spend") or []:
            owner, label = str(item.get("owner", "")), str(item.get("component_label", item.get("component")))
            cost = item.get("cost")
            if label in SKIPPED_COMPONENTS or not isinstance(cost, int | float) or cost <= 0:
                continue
            out.append(
                InfraLine(
                    f"billing export {name}: {BILLING_TABLE} / {months:g} month(s)",
                    f"{owner} / {label}",
                    float(cost) / months,
                    owner="" if owner == UNTAGGED else owner,
                )
            )
    return out


def infra_lines(report: Report | None, shared: tuple[dict[str, Any], ...] = ()) -> list[InfraLine]:
    lines: list[InfraLine] = []
    if report is not None:
        billing = report.analysis.get("billing")
        lines += _billing_lines(billing) if isinstance(billing, dict) else []
        if not lines:
            for f in report.findings:
                o = f.observation
                if not f.counted or o.provider in ("llm", "billing") or f.monthly_cost_usd <= 0:
                    continue
                lines.append(
                    InfraLine(
                        f"finding {f.rule_id} ({o.provider})",
                        f"{o.kind} {o.name or o.id}",
                        float(f.monthly_cost_usd),
                        owner=o.owner,
                        tags=dict(o.tags),
                    )
                )
    for item in shared:
        unit = next(((k, str(item[k])) for k in TAG_UNITS if item.get(k)), None)
        lines.append(
            InfraLine(
                "config economics.allocation.shared", str(item["name"]), float(item["monthly_usd"]), unit=unit
            )
        )
    return lines


def named_unit(
    line: InfraLine, owners: dict[str, dict[str, str]], known: dict[str, set[str]]
) -> tuple[str, str, str] | None:
    """(dimension, value, rule) the line is allocated within, or None: across all usage.

    Config first (`allocation.owners` maps an owner or tag value to a unit), then tags that name
    a unit by key, then the owner matched against the customers, features, apps and teams the
    logs know."""
    if line.unit:
        return (*line.unit, "config")
    values = [line.owner, *line.tags.values()]
    for v in values:
        if v and v in owners:
            dim, val = next(iter(owners[v].items()))
            return dim, val, f"config allocation.owners[{v}]"
    lowered = {k.strip().lower(): v for k, v in line.tags.items()}
    for dim, keys in TAG_UNITS.items():
        for key in keys:
            tagged = lowered.get(key)
            if tagged and tagged in known[dim]:
                return dim, tagged, f"tag {key}={tagged}"
    for dim in ("customer", "feature", "app", "team"):
        if line.owner and line.owner in known[dim]:
            return dim, line.owner, f"owner {line.owner} is a {dim} in the logs"
    return None
