"""The unit-economics section: cost per customer, feature, app, team and model, margins against
revenue, and pricing and hosting what-ifs. DuckDB over the LLM scanner's usage rollup (Arrow),
so the work grows with sessions and units, never a Python loop per request.

Every amount is per month: observed x `monthly_factor` (DAYS_PER_MONTH / observed days, the LLM
scanner's own), and per-unit figures divide a month's cost by a month's count.

Allocation (README "Unit economics"): token cost belongs to the request's own customer, feature,
app and team. Each shared infrastructure line (economics/infra.py) is split over the usage
cells (customer x feature x app x team) of the unit it names, in proportion to their token cost;
a line that names no unit the logs know is split over all usage the same way. Each line keeps
its source, amount, rule and the shares it gave.
"""

from __future__ import annotations

from typing import Any

import duckdb

from aifinops_cli.core.models import UNIT_ECONOMICS_KIND, Observation, Report, UsageRollup
from aifinops_cli.economics import whatif
from aifinops_cli.economics.infra import InfraLine, infra_lines, named_unit
from aifinops_cli.economics.revenue import RevenueBook, load_revenue, read_outcomes
from aifinops_cli.economics.settings import EconomicsSettings

NONE = "(none)"
TOP_SHARES = 10  # allocation targets listed per line (all of them are in the totals)
DIMENSIONS = {
    "customer": f"coalesce(customer, '{NONE}')",
    "feature": f"coalesce(feature, app, '{NONE}')",
    "app": f"coalesce(app, '{NONE}')",
    "team": f"coalesce(team, '{NONE}')",
}


def _r(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(float(x), places) + 0.0


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> float:
    row = con.execute(sql, params or []).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def _sessions(con: duckdb.DuckDBPyConnection, settings: EconomicsSettings) -> list[str]:
    """Table `sess(session, success)`; returns notes (outcomes file lines skipped)."""
    notes: list[str] = []
    if settings.outcome_rule == "file" and settings.outcomes_file:
        ok, _failed, skipped = read_outcomes(settings.outcomes_file)  # unlisted ids fail too
        notes += skipped
        con.execute("CREATE TABLE ok_ids (id VARCHAR)")
        if ok:
            con.execute("INSERT INTO ok_ids SELECT unnest(?::VARCHAR[])", [sorted(ok)])
        con.execute("""
CREATE TABLE sess AS
SELECT s.session, coalesce(bool_or(o.id IS NOT NULL), false) AS success
FROM (SELECT session, unnest(list_distinct(flatten(list(coalesce(session_ids, []) || [session]))))
      AS id FROM u GROUP BY session) s
LEFT JOIN ok_ids o ON o.id = s.id GROUP BY s.session""")
    elif settings.outcome_rule == "tool":  # the last tool the session called is a success tool
        globs = " OR ".join(f"t GLOB {_lit(g.lower())}" for g in settings.outcome_tools)
        con.execute(
            f"CREATE TABLE sess AS SELECT session, coalesce({globs}, false) AS success FROM "
            "(SELECT session, lower(arg_max(last_tool, last_tool_ts)) AS t FROM u GROUP BY session)"
        )
    elif settings.outcome_rule == "metadata":  # the last `outcome` value logged means success
        con.execute(
            "CREATE TABLE sess AS SELECT session, coalesce(list_contains(?::VARCHAR[], v), false) AS success "
            "FROM (SELECT session, lower(trim(arg_max(last_outcome, last_outcome_ts))) AS v "
            "FROM u GROUP BY session)",
            [list(settings.success_values)],
        )
    else:  # status: the session's last request (by time) came back ok
        con.execute(
            "CREATE TABLE sess AS SELECT session, arg_max(last_status, last_ts) = 'ok' AS success "
            "FROM u GROUP BY session"
        )
    return notes


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _allocate(
    con: duckdb.DuckDBPyConnection, lines: list[InfraLine], settings: EconomicsSettings
) -> list[dict[str, Any]]:
    """Table `alloc(customer, feature, app, team, usd)`; returns the traceable allocation lines."""
    cells = "cells"
    con.execute(
        f"CREATE TABLE {cells} AS SELECT {DIMENSIONS['customer']} AS customer, "
        f"{DIMENSIONS['feature']} AS feature, "
        f"{DIMENSIONS['app']} AS app, {DIMENSIONS['team']} AS team, fsum(cost) AS cost FROM u GROUP BY ALL"
    )
    known = {
        d: {r[0] for r in con.execute(f"SELECT DISTINCT {d} FROM {cells}").fetchall()} for d in DIMENSIONS
    }
    total = _one(con, f"SELECT coalesce(fsum(cost), 0) FROM {cells}")
    rows = []
    out = []
    for i, line in enumerate(lines):
        unit = named_unit(line, settings.owners, known)
        scope_cost = 0.0
        if unit is not None and unit[0] in DIMENSIONS:
            scope_cost = _one(
                con, f"SELECT coalesce(fsum(cost), 0) FROM {cells} WHERE {unit[0]} = ?", [unit[1]]
            )
        if unit is not None and scope_cost > 0:
            dim, value, why = unit
            rule = f"{why}: split over {dim} {value} by token cost"
        else:
            dim, value = None, None
            rule = "names no unit the logs know: split over all usage by token cost"
            if unit is not None:
                rule = (
                    f"{unit[2]}, but {unit[0]} {unit[1]} has no token cost: "
                    "split over all usage by token cost"
                )
        rows.append({"line": i, "dim": dim, "value": value, "usd": line.monthly_usd})
        out.append(
            {
                "source": line.source,
                "resource": line.resource,
                "monthly_usd": _r(line.monthly_usd),
                "rule": rule,
                "scope": {"dimension": dim, "value": value} if dim else {"dimension": "all", "value": None},
                "scope_token_cost_usd": _r(scope_cost if dim else total, 6),
            }
        )
    con.execute("CREATE TABLE lines (line INTEGER, dim VARCHAR, value VARCHAR, usd DOUBLE)")
    if rows:
        con.execute(
            "INSERT INTO lines SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[]), "
            "unnest(?::VARCHAR[]), unnest(?::DOUBLE[])",
            [[r[k] for r in rows] for k in ("line", "dim", "value", "usd")],
        )
    match = " OR ".join(f"(l.dim = '{d}' AND c.{d} = l.value)" for d in DIMENSIONS)
    con.execute(f"""
CREATE TABLE shares AS
SELECT l.line, c.customer, c.feature, c.app, c.team,
  CASE WHEN fsum(c.cost) OVER (PARTITION BY l.line) > 0 THEN c.cost / fsum(c.cost) OVER (PARTITION BY l.line)
       ELSE 1.0 / count(*) OVER (PARTITION BY l.line) END AS share, l.usd
FROM lines l JOIN {cells} c ON l.dim IS NULL OR {match}""")
    con.execute(
        "CREATE TABLE alloc AS SELECT customer, feature, app, team, fsum(share * usd) AS usd "
        "FROM shares GROUP BY ALL"
    )
    top = _rows(
        con,
        f"""SELECT line, customer, feature, share, share * usd AS usd,
  row_number() OVER (PARTITION BY line ORDER BY share DESC, customer, feature) AS n,
  count(*) OVER (PARTITION BY line) AS cells
FROM (SELECT line, customer, feature, sum(share) AS share, any_value(usd) AS usd FROM shares GROUP BY ALL)
QUALIFY n <= {TOP_SHARES} ORDER BY line, n""",
    )
    for t in top:
        entry = out[t["line"]]
        entry["targets"] = entry.get("targets", 0) or t["cells"]
        entry.setdefault("shares", []).append(
            {
                "customer": t["customer"],
                "feature": t["feature"],
                "share": _r(t["share"], 6),
                "usd": _r(t["usd"], 4),
            }
        )
    return out


def _units(con: duckdb.DuckDBPyConnection, dim: str, factor: float) -> list[dict[str, Any]]:
    key = DIMENSIONS.get(dim, "provider || '/' || model")
    infra = (
        f"LEFT JOIN (SELECT {dim} AS unit, fsum(usd) AS usd FROM alloc GROUP BY ALL) a ON a.unit = g.unit"
        if dim in DIMENSIONS
        else "LEFT JOIN (SELECT NULL::VARCHAR AS unit, 0.0::DOUBLE AS usd) a ON false"
    )
    return _rows(
        con,
        f"""
WITH g AS (
  SELECT {key} AS unit, sum(u.requests) AS requests, sum(u.errors) AS errors,
    sum(u.unpriced_requests) AS unpriced_requests,
    count(DISTINCT u.session) AS sessions, count(DISTINCT u.session) FILTER (s.success) AS successful,
    fsum(u.cost) AS token_cost, coalesce(fsum(u.cost) FILTER (NOT s.success), 0) AS failed_cost,
    coalesce(sum(u.requests) FILTER (u.premium), 0) AS premium_requests
  FROM u JOIN sess s USING (session) GROUP BY ALL
)
SELECT g.*, coalesce(a.usd, 0.0)::DOUBLE AS infra_usd FROM g {infra}
ORDER BY g.token_cost * {factor} + coalesce(a.usd, 0.0::DOUBLE) DESC, g.unit""",
    )


def _unit_row(r: dict[str, Any], factor: float) -> dict[str, Any]:
    token = r["token_cost"] * factor
    total = token + r["infra_usd"]
    month_requests = r["requests"] * factor
    month_sessions = r["sessions"] * factor
    month_success = r["successful"] * factor
    return {
        "name": r["unit"],
        "requests": int(r["requests"]),
        "sessions": int(r["sessions"]),
        "successful_sessions": int(r["successful"]),
        "failed_sessions": int(r["sessions"] - r["successful"]),
        "premium_requests": int(r["premium_requests"]),
        "unpriced_requests": int(r["unpriced_requests"]),
        "token_cost_usd": _r(token, 4),
        "infra_cost_usd": _r(r["infra_usd"], 4),
        "total_cost_usd": _r(total, 4),
        "cost_per_request_usd": _r(total / month_requests, 6) if month_requests else None,
        "cost_per_session_usd": _r(total / month_sessions, 6) if month_sessions else None,
        "cost_per_successful_outcome_usd": _r(total / month_success, 6) if month_success else None,
        "cost_of_failed_usd": _r(r["failed_cost"] * factor, 4),
    }


def _margins(customers: list[dict[str, Any]], book: RevenueBook) -> list[dict[str, Any]]:
    for c in customers:
        rev = book.get(c["name"])
        c["plan"] = rev.plan if rev else None
        c["monthly_revenue_usd"] = _r(rev.monthly_revenue_usd) if rev else None
        c["revenue_source"] = rev.source if rev else None
        if rev:
            m, pct = whatif.margin(rev.monthly_revenue_usd, c["total_cost_usd"])
            c["gross_margin_usd"] = _r(m)
            c["gross_margin_pct"] = _r(pct, 1)
            c["ai_cost_share_pct"] = (
                _r(c["total_cost_usd"] / rev.monthly_revenue_usd * 100, 2)
                if rev.monthly_revenue_usd
                else None
            )
        else:
            c["gross_margin_usd"] = c["gross_margin_pct"] = c["ai_cost_share_pct"] = None
    return customers


def _feature_margins(
    con: duckdb.DuckDBPyConnection, features: list[dict[str, Any]], book: RevenueBook
) -> None:
    """A customer's revenue reaches its features in proportion to their requests (the usage each
    feature served); a feature's margin is that revenue less its cost."""
    by = _rows(
        con,
        f"SELECT {DIMENSIONS['customer']} AS customer, {DIMENSIONS['feature']} AS feature, "
        "sum(requests) AS n "
        "FROM u GROUP BY ALL",
    )
    totals: dict[str, float] = {}
    for r in by:
        totals[r["customer"]] = totals.get(r["customer"], 0) + r["n"]
    revenue: dict[str, float] = {}
    for r in by:
        rev = book.get(r["customer"])
        if rev and totals[r["customer"]]:
            revenue[r["feature"]] = (
                revenue.get(r["feature"], 0.0) + rev.monthly_revenue_usd * r["n"] / totals[r["customer"]]
            )
    for f in features:
        rev_f = revenue.get(f["name"])
        f["monthly_revenue_usd"] = _r(rev_f)
        if rev_f is not None:
            m, pct = whatif.margin(rev_f, f["total_cost_usd"])
            f["gross_margin_usd"], f["gross_margin_pct"] = _r(m), _r(pct, 1)
            f["ai_cost_share_pct"] = _r(f["total_cost_usd"] / rev_f * 100, 2) if rev_f else None
        else:
            f["gross_margin_usd"] = f["gross_margin_pct"] = f["ai_cost_share_pct"] = None


def _pricing(
    customers: list[dict[str, Any]], book: RevenueBook, s: EconomicsSettings, factor: float
) -> dict[str, Any]:
    models = (
        ["consumption"]
        + (["outcome"] if s.price_per_outcome is not None else [])
        + (["hybrid"] if s.hybrid else [])
    )
    rows = []
    for c in customers:
        if c["name"] == NONE:  # usage no customer is named on: nobody to price
            continue
        cost = c["total_cost_usd"]
        current = c["monthly_revenue_usd"]
        prices = {"consumption": whatif.consumption_price(cost, s.margin_pct)}
        if s.price_per_outcome is not None:
            prices["outcome"] = whatif.outcome_price(c["successful_sessions"] * factor, s.price_per_outcome)
        if s.hybrid:
            rev = book.get(c["name"])
            allowance = s.hybrid.included_actions
            if allowance is None:
                allowance = rev.included_allowance if rev and rev.included_allowance is not None else 0.0
            premium = c["premium_requests"] * factor
            standard = c["requests"] * factor - premium
            prices["hybrid"] = whatif.hybrid_price(standard, premium, s.hybrid, allowance)
        row: dict[str, Any] = {"customer": c["name"], "cost_usd": cost, "current_usd": current}
        for name, price in prices.items():
            m, pct = whatif.margin(price, cost)
            change = None if current is None else price - current
            row[name] = {
                "price_usd": _r(price),
                "margin_usd": _r(m),
                "margin_pct": _r(pct, 1),
                "change_vs_current_usd": _r(change),
                "customer": None
                if change is None
                else "pays more"
                if change > 0.005
                else "pays less"
                if change < -0.005
                else "same",
            }
        rows.append(row)
    params: dict[str, Any] = {"margin_pct": s.margin_pct}
    if s.price_per_outcome is not None:
        params["price_per_outcome_usd"] = s.price_per_outcome
    if s.hybrid:
        params["hybrid"] = {
            "platform_fee_usd": s.hybrid.platform_fee,
            "included_actions": s.hybrid.included_actions
            if s.hybrid.included_actions is not None
            else "the plan's included_allowance",
            "standard_overage_usd": s.hybrid.standard_overage,
            "premium_action_usd": s.hybrid.premium_action,
        }
    return {"models": models, "parameters": params, "customers": rows}


def _models(con: duckdb.DuckDBPyConnection, s: EconomicsSettings, factor: float) -> list[dict[str, Any]]:
    rows = _rows(
        con,
        """SELECT provider, model, sum(requests) AS requests, fsum(cost) AS cost,
  sum(input_tokens) + sum(output_tokens) AS tokens, any_value(cheaper_model) AS cheaper_model,
  fsum(cheaper_cost) AS cheaper_cost, fsum(cache_saving_max) AS cache_saving_max,
  sum(unpriced_requests) AS unpriced_requests
FROM u GROUP BY ALL ORDER BY cost DESC, provider, model""",
    )
    out = []
    for r in rows:
        cost = (r["cost"] or 0.0) * factor
        tokens = float(r["tokens"] or 0) * factor
        entry: dict[str, Any] = {
            "provider": r["provider"],
            "model": r["model"],
            "requests": int(r["requests"]),
            "monthly_tokens": _r(tokens, 0),
            "cost_usd": _r(cost, 4),
            "unpriced_requests": int(r["unpriced_requests"]),
        }
        if r["cheaper_model"] and r["cheaper_cost"] is not None:
            cheap = r["cheaper_cost"] * factor
            entry["cheaper_model"] = {
                "model": r["cheaper_model"],
                "cost_usd": _r(cheap, 4),
                "saving_usd": _r(cost - cheap, 4),
            }
        entry["prompt_caching"] = {
            "hit_share": s.cache_hit_share,
            "saving_usd": _r(s.cache_hit_share * (r["cache_saving_max"] or 0.0) * factor, 4),
        }
        spec = next((h for h in s.self_hosted if h.matches(r["model"] or "")), None)
        if spec is not None and tokens > 0:
            h = whatif.hosting(tokens, cost, spec)
            per_request = tokens / (r["requests"] * factor)
            entry["self_hosted"] = {
                "rule": spec.model,
                "gpu_hour_usd": spec.gpu_hour_usd,
                "tokens_per_second": spec.tokens_per_second,
                "gpus": h.gpus,
                "cost_usd": _r(h.self_hosted_usd),
                "saving_usd": _r(h.saving_usd),
                "break_even_monthly_tokens": _r(h.break_even_tokens, 0),
                "break_even_monthly_requests": _r(h.break_even_tokens / per_request, 0)
                if h.break_even_tokens
                else None,
                "capacity_tokens_per_gpu": _r(h.capacity_tokens_per_gpu, 0),
            }
        out.append(entry)
    return out


def observations(section: dict[str, Any]) -> list[Observation]:
    """One `llm.unit_economics` observation per customer and feature with revenue, for
    rules/economics.yaml to judge."""
    out = []
    for dim in ("customer", "feature"):
        for u in section["units"][dim]:
            if u.get("monthly_revenue_usd") is None or u.get("ai_cost_share_pct") is None:
                continue
            out.append(
                Observation(
                    provider="llm",
                    kind=UNIT_ECONOMICS_KIND,
                    id=f"{dim}:{u['name']}",
                    name=u["name"],
                    owner=u["name"] if dim == "customer" else "",
                    metrics={
                        "monthly_revenue_usd": u["monthly_revenue_usd"],
                        "ai_cost_monthly_usd": u["total_cost_usd"],
                        "token_cost_monthly_usd": u["token_cost_usd"],
                        "infra_cost_monthly_usd": u["infra_cost_usd"],
                        "ai_cost_share_pct": u["ai_cost_share_pct"],
                        "gross_margin_usd": u["gross_margin_usd"],
                        "gross_margin_pct": u["gross_margin_pct"],
                        "requests": u["requests"],
                        "cost_per_successful_outcome_usd": u["cost_per_successful_outcome_usd"],
                    },
                    attributes={
                        "dimension": dim,
                        "plan": u.get("plan") or "",
                        "revenue_source": u.get("revenue_source") or "",
                    },
                    evidence=(
                        f"{dim} {u['name']}: AI cost {u['total_cost_usd']:.2f} USD/month "
                        f"(tokens {u['token_cost_usd']:.2f} + infrastructure {u['infra_cost_usd']:.2f}) "
                        f"against revenue {u['monthly_revenue_usd']:.2f} "
                        f"USD/month = {u['ai_cost_share_pct']:.1f}%",
                    ),
                )
            )
    return out


def _rule_text(s: EconomicsSettings) -> str:
    if s.outcome_rule == "file":
        return f" ({s.outcomes_file})"
    if s.outcome_rule == "tool":
        return f": the last tool the session called is {' or '.join(s.outcome_tools)}"
    if s.outcome_rule == "metadata":
        return f": the last outcome value logged is {' or '.join(s.success_values)}"
    return ": the session's last request is ok"


def build(usage: UsageRollup, settings: EconomicsSettings, report: Report | None = None) -> dict[str, Any]:
    """The economics section of a report, from the LLM usage rollup and (optionally) the rest of
    the report (billing export, infrastructure findings) for the shared costs."""
    book = load_revenue(
        settings.revenue, settings.stripe_invoices, settings.lago_invoices, settings.openmeter
    )
    f = usage.monthly_factor
    con = duckdb.connect(":memory:")
    try:
        con.register("u", usage.table)
        notes = _sessions(con, settings)
        allocation = _allocate(con, infra_lines(report, settings.shared), settings)
        units = {d: [_unit_row(r, f) for r in _units(con, d, f)] for d in ("customer", "feature", "team")}
        models = [_unit_row(r, f) for r in _units(con, "model", f)]
        _margins(units["customer"], book)
        _feature_margins(con, units["feature"], book)
        pricing = _pricing(units["customer"], book, settings, f)
        whatifs = _models(con, settings, f)
    finally:
        con.close()
    for m in models:  # token cost only: infrastructure is not split by model
        m.pop("infra_cost_usd", None)
    units["model"] = models
    token = sum(u["token_cost_usd"] for u in units["customer"])
    infra = sum(u["infra_cost_usd"] for u in units["customer"])
    revenue = sum(r.monthly_revenue_usd for r in book.customers())
    return {
        "period": {
            "start": usage.start,
            "end": usage.end,
            "observed_days": _r(usage.observed_days, 4),
            "monthly_factor": _r(f, 6),
        },
        "sources": {"usage": usage.source, "prices": usage.price_source, "revenue": book.sources},
        "outcome_rule": settings.outcome_rule + _rule_text(settings),
        "totals": {
            "token_cost_usd": _r(token),
            "infra_cost_usd": _r(infra),
            "total_cost_usd": _r(token + infra),
            "monthly_revenue_usd": _r(revenue) if book.sources else None,
            "gross_margin_usd": _r(revenue - token - infra) if book.sources else None,
        },
        "units": units,
        "allocation": allocation,
        "pricing_whatif": pricing,
        "model_whatif": whatifs,
        "customers_without_revenue": [
            c["name"] for c in units["customer"] if book.sources and c["monthly_revenue_usd"] is None
        ],
        "skipped": book.skipped + notes,
    }
