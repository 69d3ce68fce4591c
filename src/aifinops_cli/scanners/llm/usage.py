"""Priced LLM usage for the unit-economics section: one DuckDB pass over `req`, one row per
(session, customer, feature, app, team, provider, model), as a pyarrow Table.

The costs are the scanner's own (`req.cost`: cached, cache-write, batch and discount rates
already applied); nothing is re-priced here. Two more columns serve the what-ifs of
economics/whatif.py: `cheaper_cost` (the same tokens at the cheaper same-vendor model of
pricing/data/llm_tiers.yaml, premium models only) and `cache_saving_max` (what the uncached input
would have cost less read from a prompt cache, at the catalog's cached-input price).

A session is `session_id`, else `trace_id`, else the request itself (`request_id`, else its
file:line): a request outside any session is an outcome of its own. An outcomes file may name a
session by that key or by one of its trace ids (`session_ids`).
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.core.models import UsageRollup

USAGE_COLUMNS = (
    "session",
    "customer",
    "feature",
    "app",
    "team",
    "provider",
    "model",
    "premium",
    "cheaper_model",
    "requests",
    "errors",
    "unpriced_requests",
    "cost",
    "cheaper_cost",
    "cache_saving_max",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "last_ts",
    "last_status",
    "session_ids",
    "last_outcome",
    "last_outcome_ts",
    "last_tool",
    "last_tool_ts",
)

_SQL = """
WITH r AS (
  SELECT coalesce(session_id, trace_id, request_id, 'line:' || part || ':' || line_no) AS session,
    customer, feature, app, team, coalesce(provider, '') AS provider, model, status, ts, ord, cost,
    input_tokens, cached_input_tokens, output_tokens, outcome, tool_name,
    CASE WHEN p_in IS NULL THEN 0.0
         ELSE greatest(input_tokens - coalesce(cached_input_tokens, 0) - coalesce(cache_write_tokens, 0), 0)
              * greatest(p_in - coalesce(p_cached, p_in), 0) / 1e6 END AS cache_saving,
    trace_id
  FROM req
), cheap AS (
  SELECT coalesce(session_id, trace_id, request_id, 'line:' || part || ':' || line_no) AS session,
    customer, feature, app, team, coalesce(provider, '') AS provider, model,
    any_value(cheaper_model) AS cheaper_model, fsum(cheaper_cost) AS cheaper_cost
  FROM req_premium GROUP BY ALL
), g AS (
  SELECT session, customer, feature, app, team, provider, model,
    count(*) AS requests, count(*) FILTER (status = 'error') AS errors,
    count(*) FILTER (cost IS NULL) AS unpriced_requests, coalesce(fsum(cost), 0.0) AS cost,
    fsum(cache_saving) AS cache_saving_max,
    sum(input_tokens) AS input_tokens, sum(coalesce(cached_input_tokens, 0)) AS cached_input_tokens,
    sum(output_tokens) AS output_tokens,
    max(ts) AS last_ts, arg_max(status, ord) AS last_status,
    -- the other ids an outcomes file may name the session by: its traces (not every request's
    -- id: a list per request would cost more than the rest of the rollup)
    list(DISTINCT trace_id) FILTER (trace_id IS NOT NULL AND trace_id <> session) AS session_ids,
    -- the outcome rules `metadata` and `tool`: the last value logged, and the last tool called
    arg_max(outcome, ord) FILTER (outcome IS NOT NULL) AS last_outcome,
    max(ts) FILTER (outcome IS NOT NULL) AS last_outcome_ts,
    arg_max(tool_name, ord) FILTER (tool_name IS NOT NULL) AS last_tool,
    max(ts) FILTER (tool_name IS NOT NULL) AS last_tool_ts
  FROM r GROUP BY ALL
)
SELECT g.session, g.customer, g.feature, g.app, g.team, g.provider, g.model,
  c.cheaper_model IS NOT NULL AS premium, c.cheaper_model, g.requests, g.errors, g.unpriced_requests,
  g.cost, c.cheaper_cost, g.cache_saving_max, g.input_tokens, g.cached_input_tokens, g.output_tokens,
  g.last_ts, g.last_status, g.session_ids, g.last_outcome, g.last_outcome_ts, g.last_tool, g.last_tool_ts
FROM g LEFT JOIN cheap c
  ON c.session = g.session AND c.model = g.model AND c.provider = g.provider
  AND c.customer IS NOT DISTINCT FROM g.customer AND c.feature IS NOT DISTINCT FROM g.feature
  AND c.app IS NOT DISTINCT FROM g.app AND c.team IS NOT DISTINCT FROM g.team
"""


def usage_rollup(
    con: Any, days: float, factor: float, start: str, end: str, source: str, prices: str
) -> UsageRollup:
    """The rollup of the priced `req` view (scanners/llm/engine.py), as Arrow."""
    rel = con.sql(_SQL)
    # DuckDB 2 renamed a relation's arrow() to to_arrow_table(); pyproject allows both
    table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    return UsageRollup(table, days, factor, start, end, source, prices)
