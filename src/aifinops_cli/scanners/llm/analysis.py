# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Aggregates over the priced request table: observations for the rules and the spend report.

Every aggregate is SQL over `req`; Python only shapes the few rows that come back. Amounts in
observations are monthly: the observed amount times 30.4375 / observed days (at least one day),
the run-rate a FinOps report compares with a monthly bill; the observed amount and the factor are
kept in the metrics so the arithmetic can be checked.

A session, retry burst or duplicate prompt that spans several teams is owned by the team of its
first request (by time, then file in the order given, then line): the same logs always give
the same owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from aifinops_cli.core.models import CostLine, Observation

DAYS_PER_MONTH = 30.4375
TOKEN_KINDS = (  # (label, token expression, cost column)
    ("input", "greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0)", "cost_input"),
    ("cached input", "cached_input_tokens", "cost_cached"),
    ("cache write", "cache_write_tokens", "cost_cache_write"),
    ("output", "greatest(output_tokens - reasoning_tokens, 0)", "cost_output"),
    ("reasoning", "reasoning_tokens", "cost_reasoning"),
)
TOKEN_AGG = ", ".join(
    f"sum({tok}) FILTER (WHERE cost IS NOT NULL) AS t{i}, sum({col}) FILTER (WHERE cost IS NOT NULL) AS c{i}"
    for i, (_, tok, col) in enumerate(TOKEN_KINDS)
)


@dataclass
class Window:
    start: datetime | None
    end: datetime | None
    days: float

    @property
    def factor(self) -> float:
        return DAYS_PER_MONTH / self.days


def window(con: duckdb.DuckDBPyConnection) -> Window:
    # `req` has exactly the rows of `raw` without a bad_reason; raw spares the price joins
    start, end = con.execute("SELECT min(ts), max(ts) FROM raw WHERE bad_reason IS NULL").fetchone()
    if start is None:
        return Window(None, None, 1.0)
    days = max((end - start).total_seconds() / 86400.0, 1.0)
    return Window(start, end, days)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def cost_lines(row: dict[str, Any], label: str, factor: float, source: str, price_date: str,
               sku: str) -> tuple[CostLine, ...]:
    """Monthly cost lines per token kind: effective $/1M tokens x monthly millions of tokens."""
    out = []
    for i, (kind, _, _) in enumerate(TOKEN_KINDS):
        tokens = float(row.get(f"t{i}") or 0)
        cost = float(row.get(f"c{i}") or 0)
        if tokens <= 0:
            continue
        out.append(CostLine(
            description=f"{label} {kind} tokens",
            unit_price_usd=round(cost / tokens * 1e6, 6),
            unit="1M tokens",
            quantity=round(tokens / 1e6 * factor, 9),
            source=source or "unpriced",
            price_date=price_date,
            sku=f"{sku}:{kind.replace(' ', '_')}",
        ))
    return tuple(out)


def _r(x: Any, nd: int = 6) -> float | None:
    return None if x is None else round(float(x), nd)


def _distinct(col: str, sep: str) -> str:
    """The distinct values of a column, sorted and joined: string_agg(DISTINCT ...) made DuckDB
    add a second hash aggregate (0.5 s over 125,000 sessions at 1M requests) and left the
    order to chance."""
    return f"array_to_string(list_sort(list_distinct(list({col}))), {sep!r})"


def _owner_cols(order: str = "ord") -> str:
    """team and app of a group's first request that names them (see the module docstring)."""
    return ", ".join(f"coalesce(arg_min({c}, {order}) FILTER (WHERE {c} IS NOT NULL), '') AS {c}"
                     for c in ("team", "app"))


def premium_simple(con: duckdb.DuckDBPyConnection, w: Window, show_prompts: bool) -> list[Observation]:
    rows = _rows(con, f"""
SELECT coalesce(team, '') AS team, coalesce(app, '') AS app, coalesce(provider, '') AS provider, model,
  min(cheaper_model) AS cheaper, min(priced_as) AS priced_as,
  min(price_source) AS source,  -- one source per (provider, model): see PriceBook.resolve
  CAST(max(day) AS VARCHAR) AS price_date,
  count(*) AS requests, count(*) FILTER (WHERE is_simple) AS simple,
  count(*) FILTER (WHERE is_simple AND text_known) AS simple_text_known,
  count(*) FILTER (WHERE is_simple AND hint = 'classify-extract') AS simple_classify,
  sum(cost) FILTER (WHERE is_simple) AS simple_cost, sum(cheaper_cost) FILTER (WHERE is_simple) AS cheaper_cost,
  avg(input_tokens) FILTER (WHERE is_simple) AS avg_in, avg(output_tokens) FILTER (WHERE is_simple) AS avg_out,
  {TOKEN_AGG.replace("WHERE cost IS NOT NULL", "WHERE is_simple AND cost IS NOT NULL")}
FROM req_premium
GROUP BY ALL HAVING count(*) FILTER (WHERE is_simple) > 0
ORDER BY sum(cost) FILTER (WHERE is_simple) - sum(cheaper_cost) FILTER (WHERE is_simple) DESC NULLS LAST""")
    out = []
    f = w.factor
    for r in rows:
        simple_cost = float(r["simple_cost"] or 0)
        cheaper_cost = r["cheaper_cost"]
        savings = None if cheaper_cost is None or r["simple_cost"] is None else max(simple_cost - cheaper_cost, 0)
        ident = f"{r['team'] or '(no team)'}/{r['app'] or '(no app)'}/{r['model']}"
        out.append(Observation(
            provider="llm", kind="llm.premium_simple", id=ident, name=ident,
            tags={k: r[k] for k in ("team", "app") if r[k]}, owner=r["team"],
            metrics={
                "requests": float(r["requests"]),
                "simple_requests": float(r["simple"]),
                "simple_share": _r(r["simple"] / r["requests"], 4),
                "simple_text_known_share": _r(r["simple_text_known"] / r["simple"], 4),
                "simple_classify_share": _r(r["simple_classify"] / r["simple"], 4),
                "avg_input_tokens": _r(r["avg_in"], 1),
                "avg_output_tokens": _r(r["avg_out"], 1),
                "observed_simple_cost_usd": _r(simple_cost),
                "observed_cheaper_cost_usd": _r(cheaper_cost),
                "simple_cost_monthly_usd": _r(simple_cost * f),
                "cheaper_cost_monthly_usd": _r(None if cheaper_cost is None else cheaper_cost * f),
                "savings_monthly_usd": _r(None if savings is None else savings * f),
                "observed_days": _r(w.days, 3),
                "monthly_factor": _r(f),
            },
            attributes={"model": r["model"], "provider": r["provider"], "cheaper_model": r["cheaper"],
                        "priced_as": r["priced_as"], "team": r["team"], "app": r["app"]},
            cost_lines=cost_lines(r, r["model"], f, r["source"], r["price_date"],
                                  f"llm:{r['provider']}:{r['model']}"),
            evidence=(f"{r['simple']} of {r['requests']} requests to {r['model']} were simple (avg "
                      f"{r['avg_in']:.0f} input / {r['avg_out']:.0f} output tokens, no tools, short and "
                      f"single-turn); at {r['cheaper']} prices they cost ${cheaper_cost or 0:.4f} instead of "
                      f"${simple_cost:.4f} over {w.days:.1f} days (x{f:.4f} for a month)",),
        ))
    return out


def sessions(con: duckdb.DuckDBPyConnection, w: Window, window_calls: int, limit: int = 200
             ) -> list[Observation]:
    """Per session (or trace): repeated call signatures within a sliding window, and token burn.

    Totals per session are one hash aggregate. The ordered window (a sort of every call) runs
    only on sessions where some (model, signature) occurs at least twice: no other session can
    repeat a call, and in most logs they are nearly all of them."""
    rows = _rows(con, f"""
WITH s0 AS (
  SELECT coalesce(session_id, trace_id) AS sid, ts, ord, cost, input_tokens + output_tokens AS tokens,
    team, app, model,
    coalesce(last_msg_hash, CASE WHEN prompt_hash IS NOT NULL THEN hash(prompt_hash) END,
             hash(model, input_tokens // 64)) AS sig
  FROM req WHERE coalesce(session_id, trace_id) IS NOT NULL
), s AS (
  -- one 64-bit key per (session, model, signature): much lighter to group than the three
  -- columns; a collision only adds a candidate, which the exact window below then clears
  SELECT *, hash(sid, model, sig) AS k FROM s0
), agg AS (
  SELECT sid, {_owner_cols()},
    {_distinct('model', ', ')} AS models, count(*) AS calls,
    coalesce(sum(cost), 0) AS cost, sum(tokens) AS tokens,
    date_diff('second', min(ts), max(ts)) AS seconds
  FROM s GROUP BY sid
), dup AS (
  SELECT k FROM s GROUP BY k HAVING count(*) >= 2
), cand AS (
  SELECT DISTINCT sid FROM s SEMI JOIN dup USING (k)
), seq AS (
  SELECT s.*, row_number() OVER (PARTITION BY sid ORDER BY ord) AS seq
  FROM s SEMI JOIN cand USING (sid)
), rep AS (
  SELECT sid, max(in_window) AS max_repeats, count(*) FILTER (WHERE in_window > 1) AS repeated_calls,
    coalesce(sum(cost) FILTER (WHERE in_window > 1), 0) AS repeated_cost
  FROM (SELECT sid, cost, count(*) OVER (PARTITION BY sid, model, sig ORDER BY seq
          RANGE BETWEEN {int(window_calls) - 1} PRECEDING AND CURRENT ROW) AS in_window FROM seq)
  GROUP BY sid
), med AS (
  SELECT app, median(cost) AS app_median, count(*) AS app_sessions FROM agg GROUP BY app
)
SELECT agg.*, coalesce(rep.max_repeats, 1) AS max_repeats, coalesce(rep.repeated_calls, 0) AS repeated_calls,
  coalesce(rep.repeated_cost, 0) AS repeated_cost, med.app_median, med.app_sessions,
  CASE WHEN med.app_median > 0 THEN agg.cost / med.app_median END AS burn_ratio
FROM agg JOIN med USING (app) LEFT JOIN rep USING (sid)
WHERE rep.max_repeats >= 2 OR (med.app_median > 0 AND agg.cost / med.app_median >= 3)
ORDER BY greatest(coalesce(rep.repeated_cost, 0), agg.cost - coalesce(med.app_median, 0)) DESC, agg.sid
LIMIT {int(limit)}""")
    f = w.factor
    out = []
    for r in rows:
        excess = max(float(r["cost"]) - float(r["app_median"] or 0), 0.0)
        out.append(Observation(
            provider="llm", kind="llm.session", id=str(r["sid"]), name=f"session {r['sid']}",
            tags={k: r[k] for k in ("team", "app") if r[k]}, owner=r["team"],
            metrics={
                "calls": float(r["calls"]),
                "max_repeats_in_window": float(r["max_repeats"]),
                "repeated_calls": float(r["repeated_calls"]),
                "duration_minutes": _r((r["seconds"] or 0) / 60.0, 2),
                "tokens": float(r["tokens"] or 0),
                "observed_cost_usd": _r(r["cost"]),
                "observed_repeated_cost_usd": _r(r["repeated_cost"]),
                "app_median_session_cost_usd": _r(r["app_median"]),
                "app_sessions": float(r["app_sessions"]),
                "burn_ratio": _r(r["burn_ratio"], 3),
                "session_cost_monthly_usd": _r(float(r["cost"]) * f),
                "repeated_cost_monthly_usd": _r(float(r["repeated_cost"]) * f),
                "excess_cost_monthly_usd": _r(excess * f),
                "monthly_factor": _r(f),
            },
            attributes={"models": r["models"], "team": r["team"], "app": r["app"],
                        "window_calls": window_calls},
            evidence=(f"{r['calls']} calls over {(r['seconds'] or 0) / 60:.1f} min; the same call signature "
                      f"came {r['max_repeats']} times within {window_calls} consecutive calls; "
                      f"{r['repeated_calls']} repeated calls cost ${float(r['repeated_cost']):.4f}; session cost "
                      f"${float(r['cost']):.4f} vs app median ${float(r['app_median'] or 0):.4f}",),
        ))
    return out


def retries(con: duckdb.DuckDBPyConnection, w: Window, gap_seconds: float, limit: int = 200
            ) -> list[Observation]:
    """Attempts of the same request (same caller, model and prompt) less than `gap_seconds` apart."""
    rows = _rows(con, f"""
WITH a AS (
  SELECT coalesce(session_id, user_id, app, team, '') AS caller, coalesce(priced_as, model) AS model,
    prompt_hash, ts, status, cost,
    team, app, ord,
    lag(ts) OVER (PARTITION BY coalesce(session_id, user_id, app, team, ''), coalesce(priced_as, model),
                  prompt_hash
                  ORDER BY ord) AS prev_ts
  FROM req r WHERE prompt_hash IS NOT NULL
    -- a burst counts only with an error in it: requests never seen failing are left out early
    AND EXISTS (SELECT 1 FROM req e WHERE e.status = 'error' AND e.prompt_hash = r.prompt_hash)
), g AS (
  SELECT *, sum(CASE WHEN prev_ts IS NULL OR date_diff('millisecond', prev_ts, ts) > {float(gap_seconds) * 1000}
                     THEN 1 ELSE 0 END)
         OVER (PARTITION BY caller, model, prompt_hash ORDER BY ord) AS burst
  FROM a
), b AS (
  SELECT caller, model, prompt_hash, burst,
    {_owner_cols()}, count(*) AS attempts,
    count(*) FILTER (WHERE status = 'error') AS errors,
    date_diff('millisecond', min(ts), max(ts)) / 1000.0 AS span_s,
    coalesce(sum(cost), 0) AS cost,
    coalesce(arg_max(cost, ord) FILTER (WHERE status = 'ok'), 0) AS kept_cost,
    min(ts) AS first_ts
  FROM g GROUP BY caller, model, prompt_hash, burst
)
SELECT * FROM b WHERE attempts >= 2 AND errors >= 1
ORDER BY attempts DESC, cost DESC LIMIT {int(limit)}""")
    f = w.factor
    out = []
    for r in rows:
        wasted = max(float(r["cost"]) - float(r["kept_cost"]), 0.0)
        ident = f"{r['caller'] or '(anonymous)'}/{r['model']}/{str(r['prompt_hash'])[:12]}@{r['first_ts']:%Y-%m-%dT%H:%M:%S}"
        out.append(Observation(
            provider="llm", kind="llm.retry_group", id=ident, name=ident,
            tags={k: r[k] for k in ("team", "app") if r[k]}, owner=r["team"],
            metrics={
                "attempts": float(r["attempts"]),
                "errors": float(r["errors"]),
                "error_share": _r(r["errors"] / r["attempts"], 4),
                "span_seconds": _r(r["span_s"], 3),
                "observed_cost_usd": _r(r["cost"]),
                "observed_wasted_usd": _r(wasted),
                "wasted_monthly_usd": _r(wasted * f),
                "monthly_factor": _r(f),
            },
            attributes={"model": r["model"], "prompt_hash": r["prompt_hash"], "caller": r["caller"],
                        "team": r["team"], "app": r["app"], "first_attempt": r["first_ts"].isoformat()},
            evidence=(f"{r['attempts']} attempts ({r['errors']} failed) of the same request within "
                      f"{float(r['span_s']):.1f} s; attempts other than the one kept cost ${wasted:.4f}",),
        ))
    return out


def duplicates(con: duckdb.DuckDBPyConnection, w: Window, show_prompts: bool, limit: int = 100
               ) -> tuple[list[Observation], int]:
    """Identical prompts paid for again: what prompt caching or a response cache would save."""
    text = "arg_min(prompt_text, ord) AS prompt_text," if show_prompts else ""
    rows = _rows(con, f"""
WITH d AS (
  SELECT *, greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0) * (p_in - p_cached) / 1e6 AS saving
  FROM req WHERE prompt_hash IS NOT NULL AND status = 'ok' AND NOT coalesce(cache_hit, false)
), g AS (
  -- repeats are every request but the first (by time, file, line): totals minus the first one,
  -- a plain aggregate rather than a window over all requests
  SELECT prompt_hash, coalesce(provider, '') AS provider, model, count(*) AS requests,
    {_owner_cols()}, {text}
    avg(input_tokens) AS avg_in, sum(cached_input_tokens) / greatest(sum(input_tokens), 1) AS cached_share,
    coalesce(sum(cost), 0) - coalesce(arg_min(cost, ord), 0) AS repeat_cost,
    coalesce(sum(saving), 0) - coalesce(arg_min(saving, ord), 0) AS prompt_cache_saving,
    sum(cost) AS cost, min(price_source) AS source,  -- one per (provider, model): PriceBook.resolve
    CAST(max(day) AS VARCHAR) AS price_date
  FROM d GROUP BY prompt_hash, provider, model HAVING count(*) >= 2
)
SELECT *, count(*) OVER () AS groups FROM g ORDER BY prompt_cache_saving DESC, repeat_cost DESC LIMIT {int(limit)}""")
    f = w.factor
    out = []
    for r in rows:
        ident = f"{r['model']}/{r['prompt_hash']}"
        attributes = {"model": r["model"], "provider": r["provider"], "prompt_hash": r["prompt_hash"],
                      "team": r["team"], "app": r["app"]}
        if show_prompts and r.get("prompt_text"):
            attributes["prompt_preview"] = str(r["prompt_text"])[:300]
        out.append(Observation(
            provider="llm", kind="llm.duplicate_prompt", id=ident, name=ident,
            tags={k: r[k] for k in ("team", "app") if r[k]}, owner=r["team"],
            metrics={
                "requests": float(r["requests"]),
                "repeats": float(r["requests"] - 1),
                "avg_input_tokens": _r(r["avg_in"], 1),
                "cached_share": _r(r["cached_share"], 4),
                "observed_repeat_cost_usd": _r(r["repeat_cost"]),
                "observed_prompt_cache_savings_usd": _r(r["prompt_cache_saving"]),
                "prompt_cache_savings_monthly_usd": _r(float(r["prompt_cache_saving"]) * f),
                "response_cache_savings_monthly_usd": _r(float(r["repeat_cost"]) * f),
                "monthly_factor": _r(f),
            },
            attributes=attributes,
            evidence=(f"the same prompt (hash {r['prompt_hash'][:12]}) was sent {r['requests']} times to "
                      f"{r['model']}; repeats cost ${float(r['repeat_cost']):.4f}, of which "
                      f"${float(r['prompt_cache_saving']):.4f} would be saved by billing their input at the "
                      "cached-input price",),
        ))
    groups = int(rows[0]["groups"]) if rows else 0
    return out, groups


def budgets(con: duckdb.DuckDBPyConnection, budget_cfg: dict[str, dict[str, float]]) -> list[Observation]:
    """Month-to-date spend per team/app/customer in the last month of the logs, projected to month end."""
    out: list[Observation] = []
    if not any(budget_cfg.get(dim) for dim in ("team", "app", "customer")):
        return out  # no budgets configured: spare the pass over req
    end = con.execute("SELECT max(ts) FROM req").fetchone()[0]
    if end is None:
        return out
    for dim in ("team", "app", "customer"):
        limits = budget_cfg.get(dim) or {}
        if not limits:
            continue
        rows = _rows(con, f"""
SELECT {dim} AS name, coalesce(sum(cost), 0) AS mtd, count(*) AS requests
FROM req WHERE date_trunc('month', ts) = date_trunc('month', CAST(? AS TIMESTAMP)) AND {dim} IS NOT NULL
GROUP BY ALL""", [end])
        spent = {r["name"]: r for r in rows}
        month_start = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        next_month = (month_start.replace(year=month_start.year + 1, month=1) if month_start.month == 12
                      else month_start.replace(month=month_start.month + 1))
        days_in_month = (next_month - month_start).days
        elapsed = max((end - month_start).total_seconds() / 86400.0, 1.0)
        for name, budget in limits.items():
            mtd = float(spent.get(name, {}).get("mtd", 0.0))
            projected = mtd / elapsed * days_in_month
            budget = float(budget)
            out.append(Observation(
                provider="llm", kind="llm.budget", id=f"{dim}:{name}:{month_start:%Y-%m}", name=f"{dim} {name}",
                tags={dim: name} if dim in ("team", "app") else {}, owner=name if dim == "team" else "",
                metrics={
                    "budget_usd": budget,
                    "month_to_date_usd": _r(mtd),
                    "projected_usd": _r(projected),
                    "projected_pct": _r(projected / budget * 100 if budget else None, 2),
                    "spent_pct": _r(mtd / budget * 100 if budget else None, 2),
                    "overrun_usd": _r(max(projected - budget, 0.0)),
                    "days_elapsed": _r(elapsed, 3),
                    "days_in_month": float(days_in_month),
                },
                attributes={"dimension": dim, "name": name, "month": f"{month_start:%Y-%m}",
                            "as_of": end.isoformat()},
                evidence=(f"{dim} {name}: ${mtd:.2f} spent in {month_start:%Y-%m} by {end:%Y-%m-%d %H:%M} "
                          f"({elapsed:.2f} of {days_in_month} days); run-rate projection ${projected:.2f} "
                          f"against a ${budget:.2f} budget",),
            ))
    return out


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """One pass over `req` for the report's totals and unit economics and the unowned spend."""
    return _rows(con, f"""
SELECT count(*) AS requests, count(*) FILTER (WHERE cost IS NULL) AS unpriced,
  coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cached_input_tokens), 0) AS cached, coalesce(sum(reasoning_tokens), 0) AS reasoning,
  coalesce(sum(cost), 0) AS cost, sum(cost) AS priced_cost, sum(logged_cost) AS logged,
  count(DISTINCT coalesce(session_id, trace_id)) AS sessions, count(DISTINCT customer) AS customers,
  count(*) FILTER (WHERE status = 'error') AS errors,
  sum(cost) FILTER (WHERE coalesce(session_id, trace_id) IS NOT NULL) AS session_cost,
  sum(cost) FILTER (WHERE customer IS NOT NULL) AS customer_cost,
  count(DISTINCT feature) AS features, sum(cost) FILTER (WHERE feature IS NOT NULL) AS feature_cost,
  coalesce(sum(cost) FILTER (WHERE team IS NULL), 0) AS unowned_cost,
  count(*) FILTER (WHERE team IS NULL) AS unowned_requests,
  {TOKEN_AGG.replace("WHERE cost IS NOT NULL", "WHERE team IS NULL AND cost IS NOT NULL")}
FROM req""")[0]


def unowned(con: duckdb.DuckDBPyConnection, w: Window, tot: dict[str, Any]) -> list[Observation]:
    """`tot`: `totals(con)`, whose t*/c* token sums are those of the requests with no team."""
    if not tot["requests"]:
        return []
    top = _rows(con, """
SELECT coalesce(app, key_alias, user_id, '(unknown)') AS who, sum(cost) AS cost FROM req
WHERE team IS NULL GROUP BY ALL ORDER BY cost DESC NULLS LAST, who LIMIT 5""")
    f = w.factor
    total, unowned_cost = float(tot["cost"]), float(tot["unowned_cost"])
    return [Observation(
        provider="llm", kind="llm.unowned_spend", id="llm-spend-without-team", name="LLM spend with no team",
        metrics={
            "unowned_requests": float(tot["unowned_requests"]),
            "unowned_share": _r(unowned_cost / total if total else 0.0, 4),
            "observed_unowned_usd": _r(unowned_cost),
            "unowned_monthly_usd": _r(unowned_cost * f),
            "total_monthly_usd": _r(total * f),
            "monthly_factor": _r(f),
        },
        attributes={"top_unowned": [{"who": t["who"], "observed_usd": _r(t["cost"])} for t in top]},
        cost_lines=cost_lines(tot, "unowned", f, "computed from request logs", f"{w.end:%Y-%m-%d}" if w.end else "",
                              "llm:unowned"),
        evidence=(f"{tot['unowned_requests']} of {tot['requests']} requests (${unowned_cost:.4f} of ${total:.4f}) carry "
                  "no team in metadata, tags or key aliases",),
    )]
