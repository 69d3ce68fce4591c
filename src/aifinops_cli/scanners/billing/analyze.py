"""Turn the aggregated query result into flows, AI spend by owner, totals and observations.

Everything here works on the few aggregated rows the one query returns (flows, resources per
flow, owners, days), never on billing rows.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aifinops_cli.core.models import DAYS_PER_MONTH, CostLine, Observation
from aifinops_cli.scanners.billing.queries import (
    EGRESS_CLASSES,
    OTHER_TRANSFER_CLASSES,
    TRANSFER_CLASSES,
    split_sets,
)
from aifinops_cli.scanners.billing.regions import normalise

UNTAGGED = "(untagged)"
CLASS_LABEL = {
    "inter_region": "inter-region",
    "inter_zone": "inter-zone",
    "internet": "internet",
    "nat": "NAT processing",
    "transit_gateway": "Transit Gateway processing",
    "vpc_endpoint": "VPC endpoint / PrivateLink processing",
    "replication": "S3 replication (RTC)",
    "cdn_origin": "CDN origin transfer",
    "google_services": "to Google services",
    "inbound": "inbound",  # usually free, not always: its billed dollars are shown
}
# Egress classes whose AI part (bytes leaving AI resources) the `billing-ai-egress` rule judges;
# the rest of such a flow is its class rule's. One transfer line, one finding.
AI_EGRESS_CLASSES = ("inter_region", "internet", "nat")
COMPONENT_LABEL = {
    "compute": "compute/GPU",
    "model_api": "model APIs",
    "storage": "storage & vector DBs",
    "data_transfer": "data transfer",
    "retrieval": "retrieval",
}
COMPONENTS = tuple(COMPONENT_LABEL)


@dataclass
class Flow:
    transfer_class: str
    source: str
    destination: str
    gb: float = 0.0
    cost: float = 0.0
    ai_gb: float = 0.0
    ai_cost: float = 0.0
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    ai_owners: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def key(self) -> str:
        return f"{self.transfer_class}:{self.source}->{self.destination}"


@dataclass
class TableFacts:
    """What one export (a file group or a remote table) says, in its main currency."""

    label: str
    format_label: str
    currency: str = "USD"
    currencies: dict[str, dict[str, float]] = field(default_factory=dict)
    rows: int = 0
    usable_rows: int = 0
    bad_cost_rows: int = 0
    bad_date_rows: int = 0
    other_currency_rows: int = 0
    effective_zero_rows: int = 0
    first_date: date | None = None
    last_date: date | None = None
    period_start: date | None = None
    total_cost: float = 0.0
    by_class: dict[str, dict[str, float]] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    ai: dict[tuple[str, str], float] = field(default_factory=dict)  # (owner, component) -> cost
    ai_services: dict[tuple[str, str], float] = field(default_factory=dict)  # (component, service)
    daily: list[tuple[date, str, str, float]] = field(default_factory=list)
    kind: str = ""  # csv | parquet | json for local files, "" for remote tables
    bad_rows: list[tuple[str, int, str]] = field(default_factory=list)  # (file, row, cost|date)

    @property
    def days(self) -> int:
        if self.first_date is None or self.last_date is None:
            return 0
        return (self.last_date - self.first_date).days + 1

    @property
    def months_covered(self) -> float:
        """Whole calendar months when the data spans them exactly, else days / DAYS_PER_MONTH."""
        if not self.days:
            return 0.0
        f, la = self.first_date, self.last_date
        assert f is not None and la is not None
        if f.day == 1 and la.day == calendar.monthrange(la.year, la.month)[1]:
            return float((la.year - f.year) * 12 + la.month - f.month + 1)
        return self.days / DAYS_PER_MONTH

    def per_month(self, value: float) -> float:
        m = self.months_covered
        return value / m if m else value

    @property
    def period(self) -> str:
        if self.first_date is None or self.last_date is None:
            return "no usable rows"
        return f"{self.first_date.isoformat()} to {self.last_date.isoformat()}"

    @property
    def ai_total(self) -> float:
        return sum(self.ai.values())

    @property
    def ai_untagged(self) -> float:
        return sum(v for (owner, _), v in self.ai.items() if owner == UNTAGGED)


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # datetime -> date
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _f(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _pick_currency(totals: list[dict[str, Any]]) -> str:
    """The main currency carries the most usable rows; others are flagged and counted, not summed."""
    if not totals:
        return "USD"
    best = max(totals, key=lambda r: (_f(r["n_ok"]), r["currency"] != "unknown", str(r["currency"])))
    return str(best["currency"])


def run_analysis(
    engine: Any,
    view_sql: str,
    ai: Any,
    label: str,
    format_label: str,
    top_n: int = 5,
    constant: frozenset[str] = frozenset(),
    grain_view_sql: str | None = None,
) -> TableFacts:
    """Run the (at most three) statements for one export and assemble its facts.

    `grain_view_sql` is the view as statement 1 may read it (`Mapping.view_sql` with `RAW_TEXT`).
    """
    from aifinops_cli.scanners.billing.queries import (
        KEY,
        analysis_sql,
        distinguishing,
        resources_sql,
        storage_resources_sql,
    )

    d = engine.dialect
    sets = split_sets(engine.run(analysis_sql(grain_view_sql or view_sql, d, ai, constant)))
    main = _pick_currency(sets["totals"])
    keys = [r for r in sets["keys"] if r["currency"] == main]

    def selector(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
        spec: dict[str, set[str]] = {"usage_type": set(), "route_text": set(), "service": set()}
        for r in rows:
            for col in ("usage_type", "route_text", "service"):
                if r[col]:
                    spec[col].add(str(r[col]))
                    break
        return {k: sorted(v) for k, v in spec.items() if v}

    egress_keys = [r for r in keys if r["transfer_class"] in EGRESS_CLASSES]
    ai_keys = [r for r in keys if r["ai_component"] and not r["transfer_class"]]
    resource_rows: list[dict[str, Any]] = []
    if egress_keys:
        egress_spec = selector(egress_keys)
        # every key the selector can match, whatever its class: grouping by fewer columns must
        # still tell them apart, so each answer row maps back to exactly one key
        matched = {
            tuple(r[c] for c in KEY)
            for r in keys
            if any(r[c] is not None and str(r[c]) in vals for c, vals in egress_spec.items())
        }
        cols = distinguishing(sorted(matched, key=repr), egress_spec)
        resource_rows = engine.run(
            resources_sql(view_sql, d, ai, egress_spec, selector(ai_keys), top_n, key_cols=cols)
        )
        full = {tuple(k[KEY.index(c)] for c in cols): k for k in matched}
        for r in resource_rows:
            k = full.get(tuple(r[c] for c in cols))
            if k is not None:
                r.update(zip(KEY, k, strict=True))
    storage_services = sorted(
        {
            str(r["service"])
            for r in keys
            if int(_f(r["storage_service"]))
            and not r["ai_component"]
            and r["service"]
            and not r["transfer_class"]
        }
    )
    storage_rows: list[dict[str, Any]] = []
    if storage_services and ai.components.get("storage", {}).get("resource"):
        storage_rows = engine.run(storage_resources_sql(view_sql, d, ai, storage_services))
    return facts_from_rows(label, format_label, sets, main, keys, resource_rows, storage_rows, KEY)


def facts_from_rows(
    label: str,
    format_label: str,
    sets: dict[str, list[dict[str, Any]]],
    main: str,
    keys: list[dict[str, Any]],
    resource_rows: list[dict[str, Any]],
    storage_rows: list[dict[str, Any]],
    key_cols: tuple[str, ...],
) -> TableFacts:
    facts = TableFacts(label=label, format_label=format_label, currency=main)
    for r in sets["totals"]:
        facts.currencies[str(r["currency"])] = {
            "rows": _f(r["n_rows"]),
            "usable_rows": _f(r["n_ok"]),
            "cost": _f(r["cost"]),
        }
        facts.rows += int(_f(r["n_rows"]))
        facts.bad_cost_rows += int(_f(r["n_bad_cost"]))
        facts.bad_date_rows += int(_f(r["n_bad_date"]))
        if r["currency"] != main:
            facts.other_currency_rows += int(_f(r["n_ok"]))
            continue
        facts.usable_rows = int(_f(r["n_ok"]))
        facts.effective_zero_rows = int(_f(r["n_eff_zero"]))
        facts.total_cost = _f(r["cost"])
        facts.first_date = _as_date(r["first_date"])
        facts.last_date = _as_date(r["last_date"])
        facts.period_start = _as_date(r["period_start"])

    def kid(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(r[c] for c in key_cols)

    route: dict[tuple[Any, ...], tuple[str, str, str, str | None]] = {}
    by_class: dict[str, dict[str, float]] = defaultdict(lambda: {"gb": 0.0, "cost": 0.0, "rows": 0.0})
    flows: dict[tuple[str, str, str], Flow] = {}
    ai: dict[tuple[str, str], float] = defaultdict(float)
    for r in keys:
        cls = r["transfer_class"]
        gb, cost = _f(r["gb"]), _f(r["cost"])
        if cls:
            agg = by_class[str(cls)]
            agg["gb"] += gb
            agg["cost"] += cost
            agg["rows"] += _f(r["n_ok"])
        owner = str(r["owner"] or "") or UNTAGGED
        # every egress key is a flow; the other transfer classes where they bill something
        if cls in EGRESS_CLASSES or (cls in OTHER_TRANSFER_CLASSES and cost != 0):
            src = normalise(r["t_src"])
            dst = normalise(r["t_dst"]) if cls in ("inter_region", "replication") else str(r["t_dst"])
            if cls in EGRESS_CLASSES:
                route[kid(r)] = (str(cls), src, dst, r["ai_component"])
            flow = flows.setdefault((str(cls), src, dst), Flow(str(cls), src, dst))
            flow.gb += gb
            flow.cost += cost
            flow.owners[owner] += cost
        elif r["ai_component"] and not cls:
            ai[(owner, str(r["ai_component"]))] += cost
            key = (str(r["ai_component"]), str(r["service"] or ""))
            facts.ai_services[key] = facts.ai_services.get(key, 0.0) + cost
    # resources behind each flow, and which transfer leaves AI resources
    seen_res_ai = False
    for r in resource_rows:
        if r["currency"] != main:
            continue
        hit = route.get(kid(r))
        if hit is None:
            continue
        cls, src, dst, row_component = hit
        flow = flows[(cls, src, dst)]
        units = str(r["unit"] or "").lower()
        factor = 1 / 1073741824.0 if units in ("bytes", "byte", "by") else 1.0
        gb, cost = _f(r["quantity"]) * factor, _f(r["cost"])
        owner = str(r["owner"] or "") or UNTAGGED
        is_ai = bool(row_component) or bool(int(_f(r["res_ai"])))
        seen_res_ai = True
        if is_ai:
            flow.ai_gb += gb
            flow.ai_cost += cost
            flow.ai_owners[owner] += cost
            ai[(owner, "data_transfer")] += cost
        res = str(r["resource_id"] or "")
        if res:
            entry = flow.resources.setdefault(
                res, {"resource_id": res, "owner": owner, "gb": 0.0, "cost": 0.0, "ai_related": is_ai}
            )
            entry["gb"] += gb
            entry["cost"] += cost
            entry["ai_related"] = entry["ai_related"] or is_ai
    if not seen_res_ai:  # no statement 2 (no egress) or nothing came back: transfer of AI services
        for r in keys:
            if r["transfer_class"] in EGRESS_CLASSES and r["ai_component"]:
                cls, src, dst, _ = route[kid(r)]
                flow = flows[(cls, src, dst)]
                flow.ai_gb += _f(r["gb"])
                flow.ai_cost += _f(r["cost"])
                flow.ai_owners[str(r["owner"] or "") or UNTAGGED] += _f(r["cost"])
                ai[(str(r["owner"] or "") or UNTAGGED, "data_transfer")] += _f(r["cost"])
    for r in storage_rows:
        if r["currency"] == main:
            owner = str(r["owner"] or "") or UNTAGGED
            ai[(owner, "storage")] += _f(r["cost"])
            key = ("storage", str(r["service"] or ""))
            facts.ai_services[key] = facts.ai_services.get(key, 0.0) + _f(r["cost"])
    facts.by_class = dict(by_class)
    facts.flows = sorted(flows.values(), key=lambda f: (-f.cost, -f.gb, f.key))
    facts.ai = dict(ai)
    for r in sets["daily"]:
        d = _as_date(r["usage_date"])
        if r["currency"] == main and d is not None:
            facts.daily.append((d, str(r["owner"] or "") or UNTAGGED, str(r["service"] or ""), _f(r["cost"])))
    return facts


# --- observations -----------------------------------------------------------------------------


def owner_by_share(costs: dict[str, float]) -> tuple[str, float, float]:
    """(owner, its share of the cost, total): the owner holding the largest share of the cost
    ("" when the largest share carries no owner tag; ties by name). Negative amounts (credits)
    count as they are billed."""
    total = sum(costs.values())
    if not costs:
        return "", 0.0, total
    owner, cost = min(costs.items(), key=lambda oc: (-oc[1], oc[0]))
    share = cost / total if total > 0 else 0.0
    return ("" if owner == UNTAGGED else owner), share, total


def _round12(x: float) -> float:
    # 12 significant digits: sums of doubles come back in no fixed order from a parallel engine,
    # so the last bits of a quotient vary run to run; the report should not
    return float(f"{x:.12g}")


def flow_parts(flow: Flow) -> list[str]:
    """How a flow is judged: `ai` (its AI resources' bytes, for billing-ai-egress), `rest` (the
    other bytes, for the class rule), or `all` (one part). Parts never share a line item."""
    if flow.transfer_class not in AI_EGRESS_CLASSES or not (flow.ai_cost or flow.ai_gb):
        return ["all"]
    rest_cost, rest_gb = flow.cost - flow.ai_cost, flow.gb - flow.ai_gb
    if abs(rest_cost) < 1e-9 and abs(rest_gb) < 1e-9:
        return ["ai"]
    return ["ai", "rest"]


def flow_observation(facts: TableFacts, flow: Flow, top_n: int = 5, part: str = "all") -> Observation:
    """One observation per flow part (see `flow_parts`), priced at that part's billed $/GB."""
    if part == "ai":
        gb, cost, owners_cost = flow.ai_gb, flow.ai_cost, dict(flow.ai_owners)
        res_all = [r for r in flow.resources.values() if r["ai_related"]]
    elif part == "rest":
        gb, cost = flow.gb - flow.ai_gb, flow.cost - flow.ai_cost
        owners_cost = {o: c - flow.ai_owners.get(o, 0.0) for o, c in flow.owners.items()}
        owners_cost = {o: c for o, c in owners_cost.items() if abs(c) > 1e-12}
        res_all = [r for r in flow.resources.values() if not r["ai_related"]]
    else:
        gb, cost, owners_cost = flow.gb, flow.cost, dict(flow.owners)
        res_all = list(flow.resources.values())
    if not owners_cost and part == "ai" and cost:  # no statement-2 rows: the flow's owners
        owners_cost = dict(flow.owners)
    gb_m, cost_m = facts.per_month(gb), facts.per_month(cost)
    unit_price = _round12(cost / gb) if gb > 0 else 0.0
    label = CLASS_LABEL[flow.transfer_class]
    what = {"ai": ", from AI resources", "rest": ", not from AI resources"}.get(part, "")
    line = CostLine(
        description=(
            f"{label} data transfer {flow.source} -> {flow.destination}{what}, as billed ({facts.currency})"
        ),
        unit_price_usd=unit_price if gb > 0 else cost_m,
        unit="GB" if gb > 0 else "month",
        quantity=_round12(gb_m) if gb > 0 else 1.0,
        source=f"billing:{facts.label}",
        price_date=facts.period,
        sku=(
            f"billing:{flow.transfer_class}:{flow.source}:{flow.destination}"
            + (":ai" if part == "ai" else "")
        ),
    )
    resources = sorted(res_all, key=lambda r: (-r["cost"], r["resource_id"]))[:top_n]
    owners = sorted(owners_cost.items(), key=lambda x: (-x[1], x[0]))
    owner, share, owners_total = owner_by_share(owners_cost)
    evidence = [
        f"{facts.format_label} {facts.label}: {gb:,.3f} GB for {facts.currency} {cost:,.4f} "
        f"over {facts.period} ({facts.months_covered:.2f} months)",
    ]
    if part == "ai":
        # the rest of the flow, never below 0: two float sums of the same lines can differ
        # by 1e-13 either way, which printed as "-0.0000" in some runs and "0.0000" in others
        evidence.append(
            f"these bytes leave AI resources (GPU compute, ML platforms, model APIs, vector "
            f"stores); the flow's other {max(0.0, flow.gb - gb):,.3f} GB "
            f"({facts.currency} {max(0.0, flow.cost - cost):,.4f}) are judged apart"
        )
    elif part == "rest":
        evidence.append(
            f"the flow's {flow.ai_gb:,.3f} GB ({facts.currency} {flow.ai_cost:,.4f}) from AI "
            "resources are judged apart (billing-ai-egress)"
        )
    elif flow.ai_cost or flow.ai_gb:
        evidence.append(
            f"{flow.ai_gb:,.3f} GB ({facts.currency} {flow.ai_cost:,.4f}) of it leaves "
            "AI resources (GPU compute, ML platforms, model APIs, vector stores)"
        )
    if owners:
        holder = owner or f"no owner tag ({UNTAGGED})"
        evidence.append(
            f"owner by largest share of the cost: {holder}, {100 * share:.1f}% "
            f"({facts.currency} {owners[0][1]:,.4f} of {owners_total:,.4f})"
        )
    suffix = ", AI resources" if part == "ai" and "rest" in flow_parts(flow) else ""
    ai_cost, ai_gb = {"ai": (cost, gb), "rest": (0.0, 0.0)}.get(part, (flow.ai_cost, flow.ai_gb))
    return Observation(
        provider="billing",
        kind="billing.egress_flow",
        id=f"{flow.source}->{flow.destination} ({label}{suffix})",
        region=flow.source,
        name=", ".join(r["resource_id"] for r in resources[:2]),
        owner=owner,
        metrics={
            "gb_per_month": round(gb_m, 6),
            "cost_per_month": round(cost_m, 6),
            "ai_related": 1.0 if (ai_cost > 0 or ai_gb > 0) else 0.0,
            "ai_cost_per_month": round(facts.per_month(ai_cost), 6),
            "ai_gb_per_month": round(facts.per_month(ai_gb), 6),
            "unit_cost_per_gb": round(unit_price, 6),
            "resources": float(len(res_all)),
            "owner_share_pct": round(100 * share, 3),
        },
        attributes={
            "transfer_class": flow.transfer_class,
            "part": part,
            "source": flow.source,
            "destination": flow.destination,
            "billing_source": facts.label,
            "format": facts.format_label,
            "currency": facts.currency,
            "period": facts.period,
            "top_resources": [{**r, "gb": round(r["gb"], 6), "cost": round(r["cost"], 6)} for r in resources],
            "owners": {o: round(c, 6) for o, c in owners},
        },
        cost_lines=(line,),
        evidence=tuple(evidence),
    )


def untagged_observation(facts: TableFacts) -> Observation:
    total, untagged = facts.ai_total, facts.ai_untagged
    share = 100.0 * untagged / total if total > 0 else 0.0
    line = CostLine(
        description=f"AI spend with no owner tag, as billed ({facts.currency})",
        unit_price_usd=round(facts.per_month(untagged), 6),
        unit="month",
        quantity=1.0,
        source=f"billing:{facts.label}",
        price_date=facts.period,
        sku="billing:untagged-ai",
    )
    by_component: dict[str, float] = defaultdict(float)
    for (owner, comp), cost in facts.ai.items():
        if owner == UNTAGGED:
            by_component[comp] += cost
    return Observation(
        provider="billing",
        kind="billing.untagged_ai_spend",
        # one per export format and currency, never the file's path: a monthly-renamed export
        # keeps the finding's identity (its path is `billing_source`)
        id=f"untagged AI spend: {facts.format_label} export in {facts.currency}",
        former_ids=(f"untagged AI spend in {facts.label}",),
        name="AI spend without an owner tag",
        metrics={
            "ai_cost_per_month": round(facts.per_month(total), 6),
            "untagged_cost_per_month": round(facts.per_month(untagged), 6),
            "untagged_share_pct": round(share, 3),
            "owners": float(len({o for o, _ in facts.ai if o != UNTAGGED})),
        },
        attributes={
            "billing_source": facts.label,
            "format": facts.format_label,
            "currency": facts.currency,
            "period": facts.period,
            "untagged_by_component": {k: round(v, 6) for k, v in sorted(by_component.items())},
        },
        cost_lines=(line,),
        evidence=(
            f"{share:.1f}% of AI spend ({facts.currency} {untagged:,.2f} of {total:,.2f} over "
            f"{facts.period}) carries none of the owner tags",
        ),
    )


def observations(facts: TableFacts) -> list[Observation]:
    out = [
        flow_observation(facts, f, part=part)
        for f in facts.flows
        if f.cost > 0 or f.gb > 0
        for part in flow_parts(f)
    ]
    if facts.ai_total > 0:
        out.append(untagged_observation(facts))
    return out


# --- the report section -----------------------------------------------------------------------


def _money(x: float) -> float:
    return round(x, 2)


def analysis_section(all_facts: list[TableFacts], top_flows: int = 10) -> dict[str, Any]:
    """`analysis["billing"]`: billed totals, transfer by class, top flows, AI path by owner."""
    sources_rows, class_rows, flow_rows, ai_rows = [], [], [], []
    data_sources = []
    currencies = sorted({f.currency for f in all_facts})
    cur = currencies[0] if len(currencies) == 1 else "mixed"
    billed = sum(f.total_cost for f in all_facts)
    egress_cost = sum(f.by_class.get(c, {}).get("cost", 0.0) for f in all_facts for c in EGRESS_CLASSES)
    egress_gb = sum(f.by_class.get(c, {}).get("gb", 0.0) for f in all_facts for c in EGRESS_CLASSES)
    other_cost = sum(
        f.by_class.get(c, {}).get("cost", 0.0) for f in all_facts for c in OTHER_TRANSFER_CLASSES
    )
    ai_total = sum(f.ai_total for f in all_facts)
    ai_untagged = sum(f.ai_untagged for f in all_facts)
    for f in all_facts:
        sources_rows.append(
            [
                f.label,
                f.format_label,
                f.period,
                f.rows,
                f.usable_rows,
                f.rows - f.usable_rows,
                f.currency,
                _money(f.total_cost),
            ]
        )
        for cls in TRANSFER_CLASSES:
            v = f.by_class.get(cls)
            if v:
                class_rows.append([f.label, CLASS_LABEL[cls], round(v["gb"], 3), round(v["cost"], 4)])
        for flow in f.flows[:top_flows]:
            top_res = sorted(flow.resources.values(), key=lambda r: -r["cost"])[:3]
            owners = [o for o, _ in sorted(flow.owners.items(), key=lambda x: -x[1])][:3]
            flow_rows.append(
                [
                    CLASS_LABEL[flow.transfer_class],
                    flow.source,
                    flow.destination,
                    round(f.per_month(flow.gb), 3),
                    round(f.per_month(flow.cost), 4),
                    "yes" if flow.ai_cost or flow.ai_gb else "",
                    ", ".join(r["resource_id"] for r in top_res),
                    ", ".join(owners),
                ]
            )
        by_owner: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COMPONENTS, 0.0))
        for (owner, comp), cost in f.ai.items():
            by_owner[owner][comp] += cost
        for owner in sorted(by_owner, key=lambda o: (-sum(by_owner[o].values()), o)):
            comps = by_owner[owner]
            ai_rows.append([owner, *[round(comps[c], 4) for c in COMPONENTS], round(sum(comps.values()), 4)])
        data_sources.append(
            {
                "source": f.label,
                "format": f.format_label,
                "currency": f.currency,
                "currencies": {
                    c: {k: round(v, 6) for k, v in agg.items()} for c, agg in f.currencies.items()
                },
                "period": {
                    "first_day": f.first_date and f.first_date.isoformat(),
                    "last_day": f.last_date and f.last_date.isoformat(),
                    "billing_period_start": f.period_start and f.period_start.isoformat(),
                    "days": f.days,
                    "months": round(f.months_covered, 4),
                },
                "rows": f.rows,
                "usable_rows": f.usable_rows,
                "unusable_rows": {
                    "cost_unreadable": f.bad_cost_rows,
                    "date_unreadable": f.bad_date_rows,
                    "other_currency": f.other_currency_rows,
                },
                "unreadable_rows_at": [
                    {"file": file, "row": row, "value": what} for file, row, what in f.bad_rows
                ],
                "effective_cost_zero_rows": f.effective_zero_rows,
                "billed_total": round(f.total_cost, 6),
                "data_transfer": {
                    c: {"gb": round(v["gb"], 6), "cost": round(v["cost"], 6)}
                    for c, v in sorted(f.by_class.items())
                },
                "flows": [
                    {
                        "class": fl.transfer_class,
                        "source": fl.source,
                        "destination": fl.destination,
                        "gb": round(fl.gb, 6),
                        "cost": round(fl.cost, 6),
                        "ai_gb": round(fl.ai_gb, 6),
                        "ai_cost": round(fl.ai_cost, 6),
                        "gb_per_month": round(f.per_month(fl.gb), 6),
                        "cost_per_month": round(f.per_month(fl.cost), 6),
                    }
                    for fl in f.flows
                ],
                # whole period of this source; its own period.months makes it a month (economics)
                "ai_spend": [
                    {"owner": o, "component": c, "component_label": COMPONENT_LABEL[c], "cost": round(v, 6)}
                    for (o, c), v in sorted(f.ai.items())
                ],
                "ai_services": [
                    {"component": c, "service": s, "cost": round(v, 6)}
                    for (c, s), v in sorted(f.ai_services.items())
                ],
            }
        )
    periods = [f for f in all_facts if f.first_date]
    period = (
        f"{min(f.first_date for f in periods)} to {max(f.last_date for f in periods)}"  # type: ignore[type-var]
        if periods
        else "no usable rows"
    )
    unusable = sum(f.rows - f.usable_rows for f in all_facts)
    summary: dict[str, Any] = {
        "Billing period": period,
        f"Billed total ({cur})": _money(billed),
        "Data transfer out (GB)": round(egress_gb, 3),
        f"Data transfer out ({cur})": _money(egress_cost),
        f"Other billed transfer ({cur})": _money(other_cost),
        f"AI spend ({cur})": _money(ai_total),
        "AI spend untagged": f"{(100 * ai_untagged / ai_total if ai_total else 0):.1f}%",
        "Rows read / unusable": f"{sum(f.rows for f in all_facts)} / {unusable}",
    }
    if len(currencies) > 1 or any(len(f.currencies) > 1 for f in all_facts):
        summary["Currencies"] = "MIXED: " + ", ".join(sorted({c for f in all_facts for c in f.currencies}))
    return {
        "title": "Billing exports: data transfer and the AI data path",
        "summary": summary,
        "tables": [
            {
                "title": "Sources",
                "columns": ["Source", "Format", "Period", "Rows", "Usable", "Unusable", "Currency", "Billed"],
                "rows": sources_rows,
            },
            {
                "title": "Data transfer by class (whole period)",
                "columns": ["Source", "Class", "GB", "Cost"],
                "rows": class_rows,
            },
            {
                "title": "Top egress flows (per month)",
                "columns": ["Class", "From", "To", "GB/mo", "$/mo", "AI", "Top resources", "Owners"],
                "rows": flow_rows,
            },
            {
                "title": "AI spend by owner and component (whole period)",
                "columns": ["Owner", *[COMPONENT_LABEL[c] for c in COMPONENTS], "Total"],
                "rows": ai_rows,
            },
        ],
        "data": {
            "currency": cur,
            "billed_total": round(billed, 6),
            "period": period,
            "egress": {"gb": round(egress_gb, 6), "cost": round(egress_cost, 6)},
            "other_transfer_cost": round(other_cost, 6),
            "ai_total": round(ai_total, 6),
            "ai_untagged": round(ai_untagged, 6),
            "sources": data_sources,
        },
    }
