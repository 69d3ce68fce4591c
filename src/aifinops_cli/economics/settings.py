"""The `economics:` config section (and the `aifinops economics` flags over it), checked whole
before any work: a bad value is one line and exit 2.

    economics:
      revenue: plans.csv            # customer, plan, monthly_revenue, included_allowance
      stripe_invoices: invoices.csv # a Stripe Dashboard invoices export (economics/revenue.py)
      lago_invoices: invoices.json  # Lago invoice objects (GET /api/v1/invoices), JSON or CSV
      openmeter: {file: usage.json, unit_price_usd: 0.002}  # an OpenMeter meter query x your price
      outcomes:
        rule: status                # status: a session succeeds when its last request is ok
        file: outcomes.csv          # rule file: id,outcome (session, trace or lone request ids)
        tools: [submit_order, "finish*"]  # rule tool: the last tool the session called matches a glob
        success_values: [success, "true"] # rule metadata: the last `outcome` value logged is one of these
      allocation:
        owners: {ml-research: {team: research}, search: {app: search}}  # owner tag -> unit
        shared: [{name: vector-db, monthly_usd: 400, app: search}]         # lines of your own
      pricing:
        margin_pct: 50              # consumption: cost x (1 + margin)
        price_per_outcome: 0.40     # outcome-based: USD per successful session
        hybrid: {platform_fee: 200, included_actions: 2000, standard_overage: 0.01, premium_action: 0.05}
      caching: {hit_share: 0.5}     # prompt-caching what-if: share of uncached input read from cache
      self_hosted:                  # hosting what-ifs: one entry per model (glob) to price
        - {model: "gpt-4o*", gpu_hour_usd: 2.50, tokens_per_second: 2500, min_gpus: 1}
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.errors import AifinopsError

UNITS = ("customer", "feature", "app", "team")
KEYS = (
    "revenue",
    "stripe_invoices",
    "lago_invoices",
    "openmeter",
    "outcomes",
    "allocation",
    "pricing",
    "caching",
    "self_hosted",
)
OUTCOME_RULES = ("status", "file", "tool", "metadata")
# rule `metadata`: the values of the logged `outcome` attribute (scanners/llm/formats/core.py
# DEFAULT_ATTRIBUTE_KEYS, config llm.attribute_keys.outcome) that mean success, compared lower-case
SUCCESS_VALUES = (
    "success",
    "succeeded",
    "successful",
    "ok",
    "true",
    "1",
    "pass",
    "passed",
    "resolved",
    "completed",
)


class EconomicsError(AifinopsError):
    """A bad `economics:` setting or input file: one line, exit 2."""


@dataclass(frozen=True)
class Hybrid:
    platform_fee: float = 0.0  # USD per month
    included_actions: float | None = None  # standard-model requests in the fee; None: the plan's allowance
    standard_overage: float = 0.0  # USD per standard-model request beyond the allowance
    premium_action: float = 0.0  # USD per premium-model request (pricing/data/llm_tiers.yaml)


@dataclass(frozen=True)
class SelfHosted:
    model: str  # a glob on the logged model name
    gpu_hour_usd: float
    tokens_per_second: float  # measured throughput of one GPU, input + output tokens
    min_gpus: int = 1  # always on: the fixed cost of the deployment

    def matches(self, model: str) -> bool:
        return fnmatch.fnmatchcase(model.lower(), self.model.lower())


@dataclass(frozen=True)
class EconomicsSettings:
    revenue: str | None = None
    stripe_invoices: str | None = None
    lago_invoices: str | None = None
    openmeter: tuple[str, float] | None = None  # (meter query file, USD per unit of usage)
    outcome_rule: str = "status"
    outcomes_file: str | None = None
    outcome_tools: tuple[str, ...] = ()  # rule tool: globs on the last tool name
    success_values: tuple[str, ...] = SUCCESS_VALUES  # rule metadata
    owners: dict[str, dict[str, str]] = field(default_factory=dict)
    shared: tuple[dict[str, Any], ...] = ()
    margin_pct: float = 50.0
    price_per_outcome: float | None = None
    hybrid: Hybrid | None = None
    cache_hit_share: float = 0.5
    self_hosted: tuple[SelfHosted, ...] = ()


def _number(where: str, value: Any, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EconomicsError(f"config economics.{where}: expected a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise EconomicsError(f"config economics.{where}: {value!r} must be {bound}")
    return float(value)


def _mapping(where: str, value: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EconomicsError(f"config economics{'.' + where if where else ''}: expected a mapping")
    for k in value:
        if k not in keys:
            key = f"{where}.{k}" if where else str(k)
            raise EconomicsError(f"config economics.{key}: unknown setting (known: {', '.join(keys)})")
    return value


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value
    if (
        isinstance(value, bool)
        or not isinstance(items, list)
        or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items)
    ):
        raise EconomicsError(f"config economics.{where}: expected a list of names")
    return tuple(str(v) for v in items)


def parse(section: dict[str, Any], flags: dict[str, Any] | None = None) -> EconomicsSettings:
    """The section with the command's flags over it (a flag that is None is not given)."""
    s = dict(_mapping("", section, KEYS)) if section else {}
    for k, v in (flags or {}).items():
        if v is not None:
            s[k] = v
    for k in ("revenue", "stripe_invoices", "lago_invoices"):
        if s.get(k) is not None and not isinstance(s[k], str):
            raise EconomicsError(f"config economics.{k}: expected a file path")
    meter = _mapping("openmeter", s.get("openmeter"), ("file", "unit_price_usd"))
    openmeter = None
    if meter:
        if not isinstance(meter.get("file"), str) or not meter["file"]:
            raise EconomicsError(
                "config economics.openmeter.file: expected a file path (a meter query export)"
            )
        if "unit_price_usd" not in meter:
            raise EconomicsError(
                "config economics.openmeter.unit_price_usd: OpenMeter meters usage, not money: "
                "give the USD you charge per unit"
            )
        openmeter = (meter["file"], _number("openmeter.unit_price_usd", meter["unit_price_usd"]))
    outcomes = _mapping("outcomes", s.get("outcomes"), ("rule", "file", "tools", "success_values"))
    rule = str(outcomes.get("rule", "file" if outcomes.get("file") else "status"))
    if rule not in OUTCOME_RULES:
        raise EconomicsError(
            f"config economics.outcomes.rule: {rule!r} is not one of {', '.join(OUTCOME_RULES)}"
        )
    if rule == "file" and not outcomes.get("file"):
        raise EconomicsError("config economics.outcomes.file: rule 'file' needs an outcomes CSV (id,outcome)")
    tools = _strings("outcomes.tools", outcomes.get("tools"))
    if rule == "tool" and not tools:
        raise EconomicsError(
            "config economics.outcomes.tools: rule 'tool' needs the tool names (globs) that end a "
            "successful session, e.g. [submit_order]"
        )
    values = _strings("outcomes.success_values", outcomes.get("success_values"))
    alloc = _mapping("allocation", s.get("allocation"), ("owners", "shared"))
    owners: dict[str, dict[str, str]] = {}
    for owner, target in (alloc.get("owners") or {}).items():
        target = _mapping(f"allocation.owners.{owner}", target, UNITS)
        if len(target) != 1:
            raise EconomicsError(
                f"config economics.allocation.owners.{owner}: name one unit, e.g. {{app: search}}"
            )
        owners[str(owner)] = {k: str(v) for k, v in target.items()}
    shared = []
    for i, line in enumerate(alloc.get("shared") or []):
        line = _mapping(f"allocation.shared[{i}]", line, ("name", "monthly_usd", *UNITS))
        if not line.get("name"):
            raise EconomicsError(f"config economics.allocation.shared[{i}]: needs a name")
        shared.append(
            {**line, "monthly_usd": _number(f"allocation.shared[{i}].monthly_usd", line.get("monthly_usd"))}
        )
    pricing = _mapping("pricing", s.get("pricing"), ("margin_pct", "price_per_outcome", "hybrid"))
    hybrid = None
    if pricing.get("hybrid") is not None:
        h = _mapping(
            "pricing.hybrid",
            pricing["hybrid"],
            ("platform_fee", "included_actions", "standard_overage", "premium_action"),
        )
        hybrid = Hybrid(
            _number("pricing.hybrid.platform_fee", h.get("platform_fee", 0.0)),
            _number("pricing.hybrid.included_actions", h["included_actions"])
            if "included_actions" in h
            else None,
            _number("pricing.hybrid.standard_overage", h.get("standard_overage", 0.0)),
            _number("pricing.hybrid.premium_action", h.get("premium_action", 0.0)),
        )
    caching = _mapping("caching", s.get("caching"), ("hit_share",))
    hosted = []
    for i, item in enumerate(s.get("self_hosted") or []):
        item = _mapping(f"self_hosted[{i}]", item, ("model", "gpu_hour_usd", "tokens_per_second", "min_gpus"))
        if not item.get("model"):
            raise EconomicsError(f"config economics.self_hosted[{i}]: needs a model (a glob)")
        gpus = item.get("min_gpus", 1)
        if isinstance(gpus, bool) or not isinstance(gpus, int) or gpus < 1:
            raise EconomicsError(f"config economics.self_hosted[{i}].min_gpus: expected a whole number >= 1")
        tps = _number(f"self_hosted[{i}].tokens_per_second", item.get("tokens_per_second"))
        if tps <= 0:
            raise EconomicsError(f"config economics.self_hosted[{i}].tokens_per_second: must be above 0")
        hosted.append(
            SelfHosted(
                str(item["model"]),
                _number(f"self_hosted[{i}].gpu_hour_usd", item.get("gpu_hour_usd")),
                tps,
                gpus,
            )
        )
    return EconomicsSettings(
        revenue=s.get("revenue"),
        stripe_invoices=s.get("stripe_invoices"),
        lago_invoices=s.get("lago_invoices"),
        openmeter=openmeter,
        outcome_rule=rule,
        outcomes_file=outcomes.get("file"),
        outcome_tools=tools,
        success_values=tuple(v.lower() for v in values) if values else SUCCESS_VALUES,
        owners=owners,
        shared=tuple(shared),
        margin_pct=_number("pricing.margin_pct", pricing.get("margin_pct", 50.0), -100.0),
        price_per_outcome=(
            _number("pricing.price_per_outcome", pricing["price_per_outcome"])
            if pricing.get("price_per_outcome") is not None
            else None
        ),
        hybrid=hybrid,
        cache_hit_share=_number("caching.hit_share", caching.get("hit_share", 0.5), 0.0, 1.0),
        self_hosted=tuple(hosted),
    )
