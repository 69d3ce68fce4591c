# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Aggregates over the priced request table: observations for the rules and the spend report.

Every aggregate is SQL over `req`; Python only shapes the few rows that come back. Amounts in
observations are monthly: the observed amount times DAYS_PER_MONTH (730 h / 24 = 30.4167, the
month the clouds bill, core/models.py) / observed days (at least one day),
the run-rate a FinOps report compares with a monthly bill; the observed amount and the factor are
kept in the metrics so the arithmetic can be checked.

A session, retry burst or duplicate prompt that spans several teams is owned by the team of its
first request (by time, then file in the order given, then line): the same logs always give
the same owner.

Each wasted request is claimed once (`claimed` table, see `wasted`): retry storm, then agent
loop, then duplicate prompt, then premium-model misuse, then token burn. A later finding never
counts a request an earlier one claimed, so the findings' savings add up without double counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from aifinops_cli.core.models import DAYS_PER_MONTH, CostLine, Observation
from aifinops_cli.core.money import usd

TOKEN_KINDS = (  # (label, token expression, cost column)
    ("input", "greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0)", "cost_input"),
    ("cached input", "cached_input_tokens", "cost_cached"),
    ("cache write", "cache_write_tokens", "cost_cache_write"),
    ("output", "greatest(output_tokens - reasoning_tokens, 0)", "cost_output"),
    ("reasoning", "reasoning_tokens", "cost_reasoning"),
)
TOKEN_AGG = ", ".join(
    f"sum({tok}) FILTER (WHERE cost IS NOT NULL) AS t{i}, fsum({col}) FILTER (WHERE cost IS NOT NULL) AS c{i}"
    for i, (_, tok, col) in enumerate(TOKEN_KINDS)
)


@dataclass(frozen=True)
class ClaimRules:
    """The thresholds deciding which groups claim their requests: the rules' own params (see
    `scanner.claim_rules`), so a request is claimed only by a group its rule can report."""

    retry_gap_seconds: float = 30.0
    retry_max_attempts: int = 3  # llm-retry-storm: attempts > this
    retry_min_errors: int = 1
    loop_window_calls: int = 6
    loop_min_repeats: int = 3  # llm-agent-loop: same signature this many times in the window
    loop_min_monthly_usd: float = 0.01
    duplicate_min_requests: int = 5  # llm-duplicate-prompt
    duplicate_max_cached_share: float = 0.2
    duplicate_min_monthly_savings: float = 0.5
    premium_min_simple_requests: int = 20  # llm-premium-simple
    premium_min_simple_share: float = 0.3
    premium_min_monthly_savings: float = 1.0


CLAIM_ORDER = ("retry", "loop", "duplicate", "premium", "burn")


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


def cost_lines(
    row: dict[str, Any], label: str, factor: float, source: str, price_date: str, sku: str
) -> tuple[CostLine, ...]:
    """Monthly cost lines per token kind: effective $/1M tokens x monthly millions of tokens."""
    out = []
    for i, (kind, _, _) in enumerate(TOKEN_KINDS):
        tokens = float(row.get(f"t{i}") or 0)
        cost = float(row.get(f"c{i}") or 0)
        if tokens <= 0:
            continue
        out.append(
            CostLine(
                description=f"{label} {kind} tokens",
                unit_price_usd=round(cost / tokens * 1e6, 6),
                unit="1M tokens",
                quantity=round(tokens / 1e6 * factor, 9),
                source=source or "unpriced",
                price_date=price_date,
                sku=f"{sku}:{kind.replace(' ', '_')}",
            )
        )
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
    return ", ".join(
        f"coalesce(arg_min({c}, {order}) FILTER (WHERE {c} IS NOT NULL), '') AS {c}" for c in ("team", "app")
    )


SID = "coalesce(session_id, trace_id)"


def wasted(
    con: duckdb.DuckDBPyConnection, w: Window, rules: ClaimRules, show_prompts: bool
) -> tuple[list[Observation], int]:
    """Every waste finding, in the claim order (CLAIM_ORDER): each analysis skips the requests an
    earlier one claimed, then claims its own in `claimed` (one row per request at most).

    Why this order: a retry storm's extra attempts are waste whatever else happens; a loop's
    repeats are waste even if each is also a repeated prompt; a duplicate prompt is waste only if
    it is not already a retry or a loop step; premium misuse reprices what is left; token burn is
    the excess of a session's unclaimed cost over its app's median."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE claimed (ord HUGEINT, kind VARCHAR, sid VARCHAR, "
        "cost DOUBLE, waste DOUBLE)"
    )
    obs = retries(con, w, rules)
    _loop_calls(con, w, rules)
    dups, groups = duplicates(con, w, rules, show_prompts)
    obs += dups
    obs += premium_simple(con, w, rules, show_prompts)
    obs += sessions(con, w, rules)
    return obs, groups


def claims(con: duckdb.DuckDBPyConnection, w: Window) -> list[dict[str, Any]]:
    """Claimed requests per finding kind, in claim order: the totals add each request once."""
    rows = {
        r["kind"]: r
        for r in _rows(
            con,
            """
SELECT kind, count(*) AS requests, coalesce(fsum(cost), 0) AS cost,
  coalesce(fsum(waste), 0) AS waste FROM claimed GROUP BY kind""",
        )
    }
    out = []
    for kind in CLAIM_ORDER[:-1]:  # token burn claims no request: it is a session's leftover
        r = rows.get(kind, {"requests": 0, "cost": 0.0, "waste": 0.0})
        out.append(
            {
                "kind": kind,
                "requests": int(r["requests"]),
                "observed_cost_usd": _r(r["cost"]),
                "observed_wasted_usd": _r(r["waste"]),
                "wasted_monthly_usd": _r(float(r["waste"]) * w.factor),
            }
        )
    return out


def _unclaimed(table: str = "req") -> str:
    """The rows of `table` no earlier finding claimed."""
    return f"(SELECT * FROM {table} ANTI JOIN claimed USING (ord))"


def premium_simple(
    con: duckdb.DuckDBPyConnection, w: Window, rules: ClaimRules, show_prompts: bool
) -> list[Observation]:
    """Simple requests to a premium model, repriced at the cheaper model of the same vendor;
    requests claimed by a retry storm, loop or duplicate prompt are left out."""
    # one row per billing mode first (standard, batch, flex, priority bill at different rates
    # and from different price sources), then the group: its cost lines are the mode rows', so
    # each line names its own rate and source; thresholds judge the whole group
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE premium_modes AS
SELECT coalesce(team, '') AS team, coalesce(app, '') AS app, coalesce(provider, '') AS provider, model,
  coalesce(price_mode, 'standard') AS mode,
  min(cheaper_model) AS cheaper, min(priced_as) AS priced_as,
  min(price_source) AS source,  -- one source per (provider, model, mode): see PriceBook.rows
  CAST(max(day) AS VARCHAR) AS price_date,
  count(*) AS requests, count(*) FILTER (WHERE is_simple) AS simple,
  count(*) FILTER (WHERE is_simple AND text_known) AS simple_text_known,
  count(*) FILTER (WHERE is_simple AND hint = 'classify-extract') AS simple_classify,
  fsum(cost) FILTER (WHERE is_simple) AS simple_cost, fsum(cheaper_cost) FILTER (WHERE is_simple) AS cheaper_cost,
  sum(input_tokens) FILTER (WHERE is_simple) AS sum_in, sum(output_tokens) FILTER (WHERE is_simple) AS sum_out,
  {TOKEN_AGG.replace("WHERE cost IS NOT NULL", "WHERE is_simple AND cost IS NOT NULL")}
FROM {_unclaimed("req_premium")}
GROUP BY ALL""")
    con.execute("""
CREATE OR REPLACE TEMP TABLE premium_groups AS
SELECT team, app, provider, model, min(cheaper) AS cheaper, min(priced_as) AS priced_as,
  sum(requests) AS requests, sum(simple) AS simple, sum(simple_text_known) AS simple_text_known,
  sum(simple_classify) AS simple_classify, fsum(simple_cost) AS simple_cost, fsum(cheaper_cost) AS cheaper_cost,
  sum(sum_in) / sum(simple) AS avg_in, sum(sum_out) / sum(simple) AS avg_out,
  string_agg(mode, ', ' ORDER BY mode <> 'standard', mode) FILTER (WHERE simple > 0) AS modes
FROM premium_modes GROUP BY ALL HAVING sum(simple) > 0""")
    qualifies = (
        f"simple >= {int(rules.premium_min_simple_requests)} "
        f"AND simple >= {float(rules.premium_min_simple_share)} * requests "
        f"AND greatest(simple_cost - cheaper_cost, 0) * {w.factor} >= {float(rules.premium_min_monthly_savings)}"
    )
    if con.execute(f"SELECT count(*) FROM premium_groups WHERE {qualifies}").fetchone()[0]:
        con.execute(f"""
INSERT INTO claimed
SELECT ord, 'premium', {SID}, cost, greatest(cost - cheaper_cost, 0)
FROM {_unclaimed("req_premium")} r
SEMI JOIN (SELECT * FROM premium_groups WHERE {qualifies}) g
  ON g.team = coalesce(r.team, '') AND g.app = coalesce(r.app, '') AND g.provider = coalesce(r.provider, '')
     AND g.model = r.model
WHERE r.is_simple""")
    rows = _rows(
        con,
        "SELECT * FROM premium_groups ORDER BY simple_cost - cheaper_cost DESC NULLS LAST, "
        "team, app, provider, model",
    )
    by_mode: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for m in _rows(
        con,
        "SELECT * FROM premium_modes WHERE simple > 0 "
        "ORDER BY team, app, provider, model, mode <> 'standard', mode",
    ):
        by_mode.setdefault((m["team"], m["app"], m["provider"], m["model"]), []).append(m)
    out = []
    f = w.factor
    for r in rows:
        simple_cost = float(r["simple_cost"] or 0)
        cheaper_cost = r["cheaper_cost"]
        savings = (
            None if cheaper_cost is None or r["simple_cost"] is None else max(simple_cost - cheaper_cost, 0)
        )
        ident = f"{r['team'] or '(no team)'}/{r['app'] or '(no app)'}/{r['model']}"
        out.append(
            Observation(
                provider="llm",
                kind="llm.premium_simple",
                id=ident,
                name=ident,
                tags={k: r[k] for k in ("team", "app") if r[k]},
                owner=r["team"],
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
                attributes={
                    "model": r["model"],
                    "provider": r["provider"],
                    "cheaper_model": r["cheaper"],
                    "priced_as": r["priced_as"],
                    "team": r["team"],
                    "app": r["app"],
                },
                cost_lines=tuple(
                    line
                    for m in by_mode.get((r["team"], r["app"], r["provider"], r["model"]), [])
                    for line in _mode_lines(m, f)
                ),
                evidence=(
                    f"{r['simple']} of {r['requests']} requests to {r['model']} (not already counted as a "
                    f"retry, loop or duplicate) were simple (avg "
                    f"{r['avg_in']:.0f} input / {r['avg_out']:.0f} output tokens, no tools, short and "
                    f"single-turn); at {r['cheaper']} prices they cost {usd(cheaper_cost or 0, 4)} instead of "
                    f"{usd(simple_cost, 4)} over {w.days:.1f} days (x{f:.4f} for a month)"
                    + (
                        f"; billed as {r['modes']}, each priced at its own rate"
                        if "," in (r["modes"] or "")
                        else ""
                    ),
                ),
            )
        )
    return out


def _mode_lines(m: dict[str, Any], factor: float) -> tuple[CostLine, ...]:
    """A premium group's cost lines for one billing mode: its rate and its price source. The
    standard mode keeps the plain label and sku; others name the mode in both."""
    mode = "" if m["mode"] == "standard" else m["mode"]
    label = f"{m['model']} {mode}".strip()
    sku = f"llm:{m['provider']}:{m['model']}" + (f":{mode}" if mode else "")
    return cost_lines(m, label, factor, m["source"], m["price_date"], sku)


def _loop_calls(con: duckdb.DuckDBPyConnection, w: Window, rules: ClaimRules) -> None:
    """`loop_calls`: the calls of every (session, model, signature) repeated within a sliding window
    of consecutive calls, and the loop's claims.

    The signature is evidence of repetition only: the last message (or the prompt's hash) where
    the prompt is logged, else the reply (its tool calls, or its text). A call with none of them
    repeats nothing: similar token sizes are not a loop. Calls claimed by a retry storm are not
    steps of the session here. The kept call of a loop is its last successful one (a failed
    attempt is never kept over a success, the success never counted as the waste); the others
    are the waste. The ordered window (a sort of every call) runs only on sessions where some
    (model, signature) occurs at least twice."""
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE loop_calls AS
WITH s0 AS (
  SELECT {SID} AS sid, ord, cost, status, model,
    coalesce(last_msg_hash, CASE WHEN prompt_hash IS NOT NULL THEN hash(prompt_hash) END,
             CASE WHEN reply_hash IS NOT NULL THEN hash('reply', reply_hash) END) AS sig,
    CASE WHEN last_msg_hash IS NOT NULL OR prompt_hash IS NOT NULL THEN 'prompt'
         WHEN reply_hash IS NOT NULL THEN 'reply' END AS evidence
  FROM {_unclaimed()} WHERE {SID} IS NOT NULL
), s AS (
  -- one 64-bit key per (session, model, signature): much lighter to group than the three
  -- columns; a collision only adds a candidate, which the exact window below then clears
  SELECT *, CASE WHEN sig IS NOT NULL THEN hash(sid, model, sig) END AS k FROM s0
), dup AS (
  SELECT k FROM s WHERE k IS NOT NULL GROUP BY k HAVING count(*) >= 2
), seq AS (
  SELECT s.*, row_number() OVER (PARTITION BY sid ORDER BY ord) AS seq
  FROM s SEMI JOIN (SELECT DISTINCT sid FROM s SEMI JOIN dup USING (k)) c USING (sid)
), win AS (
  SELECT *, count(*) OVER (PARTITION BY sid, model, sig ORDER BY seq
                           RANGE BETWEEN {int(rules.loop_window_calls) - 1} PRECEDING AND CURRENT ROW) AS in_window
  FROM seq WHERE sig IS NOT NULL
), grp AS (
  SELECT sid, model, sig, max(in_window) AS max_rep, arg_max(ord, ord) FILTER (WHERE status = 'ok') AS kept_ord
  FROM win GROUP BY ALL HAVING max(in_window) >= 2
)
SELECT win.sid, win.ord, win.cost, win.evidence, grp.max_rep,
  win.ord IS NOT DISTINCT FROM grp.kept_ord AS kept,
  grp.max_rep >= {int(rules.loop_min_repeats)} AS is_loop
FROM win JOIN grp USING (sid, model, sig)""")
    con.execute(f"""
INSERT INTO claimed SELECT ord, 'loop', sid, cost, coalesce(cost, 0) FROM loop_calls
WHERE is_loop AND NOT kept AND sid IN (
  SELECT sid FROM loop_calls WHERE is_loop AND NOT kept GROUP BY sid
  HAVING coalesce(fsum(cost), 0) * {w.factor} >= {float(rules.loop_min_monthly_usd)})""")


def sessions(
    con: duckdb.DuckDBPyConnection, w: Window, rules: ClaimRules, limit: int = 200
) -> list[Observation]:
    """Per session (or trace): its loop (from `loop_calls`) and token burn, the excess of the cost
    no other finding claimed over the app's median session."""
    window_calls = int(rules.loop_window_calls)
    rows = _rows(
        con,
        f"""
WITH agg AS (
  SELECT {SID} AS sid, {_owner_cols()},
    {_distinct("model", ", ")} AS models, count(*) AS calls,
    coalesce(fsum(cost), 0) AS cost, sum(input_tokens + output_tokens) AS tokens,
    date_diff('second', min(ts), max(ts)) AS seconds
  FROM req WHERE {SID} IS NOT NULL GROUP BY 1
), rep AS (
  SELECT sid, max(max_rep) AS max_repeats, count(*) FILTER (WHERE is_loop AND NOT kept) AS repeated_calls,
    coalesce(fsum(cost) FILTER (WHERE is_loop AND NOT kept), 0) AS repeated_cost,
    {_distinct("evidence", ", ")} AS evidence
  FROM loop_calls GROUP BY sid
), cl AS (
  SELECT sid, coalesce(fsum(cost), 0) AS claimed_cost FROM claimed WHERE sid IS NOT NULL GROUP BY sid
), med AS (
  SELECT app, median(cost) AS app_median, count(*) AS app_sessions FROM agg GROUP BY app
), j AS (
  SELECT agg.*, coalesce(rep.max_repeats, 1) AS max_repeats, coalesce(rep.repeated_calls, 0) AS repeated_calls,
    coalesce(rep.repeated_cost, 0) AS repeated_cost, rep.evidence, med.app_median, med.app_sessions,
    coalesce(cl.claimed_cost, 0) AS claimed_cost, greatest(agg.cost - coalesce(cl.claimed_cost, 0), 0) AS left_cost
  FROM agg JOIN med USING (app) LEFT JOIN rep USING (sid) LEFT JOIN cl USING (sid)
)
SELECT *, CASE WHEN app_median > 0 THEN left_cost / app_median END AS burn_ratio FROM j
WHERE max_repeats >= 2 OR (app_median > 0 AND left_cost / app_median >= 3)
ORDER BY greatest(repeated_cost, left_cost - coalesce(app_median, 0)) DESC, sid
LIMIT {int(limit)}""",
    )
    f = w.factor
    out = []
    for r in rows:
        excess = max(float(r["left_cost"]) - float(r["app_median"] or 0), 0.0)
        how = {"prompt": "same last message or prompt", "reply": "same reply (tool calls or text)"}
        evidence = " / ".join(how[e] for e in (r["evidence"] or "").split(", ") if e in how) or "none"
        out.append(
            Observation(
                provider="llm",
                kind="llm.session",
                id=str(r["sid"]),
                name=f"session {r['sid']}",
                tags={k: r[k] for k in ("team", "app") if r[k]},
                owner=r["team"],
                metrics={
                    "calls": float(r["calls"]),
                    "max_repeats_in_window": float(r["max_repeats"]),
                    "repeated_calls": float(r["repeated_calls"]),
                    "duration_minutes": _r((r["seconds"] or 0) / 60.0, 2),
                    "tokens": float(r["tokens"] or 0),
                    "observed_cost_usd": _r(r["cost"]),
                    "observed_repeated_cost_usd": _r(r["repeated_cost"]),
                    "observed_claimed_cost_usd": _r(r["claimed_cost"]),
                    "app_median_session_cost_usd": _r(r["app_median"]),
                    "app_sessions": float(r["app_sessions"]),
                    "burn_ratio": _r(r["burn_ratio"], 3),
                    "session_cost_monthly_usd": _r(float(r["cost"]) * f),
                    "repeated_cost_monthly_usd": _r(float(r["repeated_cost"]) * f),
                    "excess_cost_monthly_usd": _r(excess * f),
                    "monthly_factor": _r(f),
                },
                attributes={
                    "models": r["models"],
                    "team": r["team"],
                    "app": r["app"],
                    "window_calls": window_calls,
                    "repetition_evidence": evidence,
                },
                evidence=(
                    f"{r['calls']} calls over {(r['seconds'] or 0) / 60:.1f} min; the same call signature "
                    f"({evidence}) came {r['max_repeats']} times within {window_calls} consecutive calls; "
                    f"{r['repeated_calls']} repeated calls cost {usd(float(r['repeated_cost']), 4)}; session cost "
                    f"{usd(float(r['cost']), 4)} ({usd(float(r['claimed_cost']), 4)} of it counted by retry, loop, "
                    f"duplicate or premium findings) vs app median {usd(float(r['app_median'] or 0), 4)}",
                ),
            )
        )
    return out


def retries(
    con: duckdb.DuckDBPyConnection, w: Window, rules: ClaimRules, limit: int = 200
) -> list[Observation]:
    """Attempts of the same request (same caller, model and prompt) less than the gap apart.

    First in the claim order: the attempts of a burst the rule reports, except the kept one (the
    last success), are claimed."""
    gap_ms = float(rules.retry_gap_seconds) * 1000
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE retry_att AS
WITH a AS (
  SELECT coalesce(session_id, user_id, app, team, '') AS caller, coalesce(priced_as, model) AS model,
    prompt_hash, ts, status, cost, team, app, ord, {SID} AS sid,
    lag(ts) OVER (PARTITION BY coalesce(session_id, user_id, app, team, ''), coalesce(priced_as, model),
                  prompt_hash
                  ORDER BY ord) AS prev_ts
  FROM req r WHERE prompt_hash IS NOT NULL
    -- a burst counts only with an error in it: requests never seen failing are left out early
    AND EXISTS (SELECT 1 FROM req e WHERE e.status = 'error' AND e.prompt_hash = r.prompt_hash)
), g AS (
  SELECT *, sum(CASE WHEN prev_ts IS NULL OR date_diff('millisecond', prev_ts, ts) > {gap_ms}
                     THEN 1 ELSE 0 END)
         OVER (PARTITION BY caller, model, prompt_hash ORDER BY ord) AS burst
  FROM a
), b AS (
  SELECT caller, model, prompt_hash, burst, count(*) AS attempts, count(*) FILTER (WHERE status = 'error') AS errors,
    arg_max(ord, ord) FILTER (WHERE status = 'ok') AS kept_ord
  FROM g GROUP BY ALL HAVING count(*) >= 2 AND count(*) FILTER (WHERE status = 'error') >= 1
)
SELECT g.*, b.attempts, b.errors, g.ord IS NOT DISTINCT FROM b.kept_ord AS kept
FROM g JOIN b USING (caller, model, prompt_hash, burst)""")
    con.execute(f"""
INSERT INTO claimed SELECT ord, 'retry', sid, cost, coalesce(cost, 0) FROM retry_att
WHERE NOT kept AND attempts > {int(rules.retry_max_attempts)} AND errors >= {int(rules.retry_min_errors)}""")
    rows = _rows(
        con,
        f"""
SELECT caller, model, prompt_hash, burst, {_owner_cols()}, count(*) AS attempts,
  count(*) FILTER (WHERE status = 'error') AS errors,
  date_diff('millisecond', min(ts), max(ts)) / 1000.0 AS span_s,
  coalesce(fsum(cost), 0) AS cost, coalesce(fsum(cost) FILTER (WHERE NOT kept), 0) AS wasted,
  min(ts) AS first_ts
FROM retry_att GROUP BY caller, model, prompt_hash, burst
ORDER BY attempts DESC, cost DESC, first_ts, caller LIMIT {int(limit)}""",
    )
    f = w.factor
    out = []
    for r in rows:
        wasted = float(r["wasted"])
        first = f"{r['first_ts']:%Y-%m-%dT%H:%M:%S}" if r["first_ts"] else "no-time"
        ident = f"{r['caller'] or '(anonymous)'}/{r['model']}/{str(r['prompt_hash'])[:12]}@{first}"
        out.append(
            Observation(
                provider="llm",
                kind="llm.retry_group",
                id=ident,
                name=ident,
                tags={k: r[k] for k in ("team", "app") if r[k]},
                owner=r["team"],
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
                attributes={
                    "model": r["model"],
                    "prompt_hash": r["prompt_hash"],
                    "caller": r["caller"],
                    "team": r["team"],
                    "app": r["app"],
                    "first_attempt": r["first_ts"].isoformat() if r["first_ts"] else None,
                },
                evidence=(
                    f"{r['attempts']} attempts ({r['errors']} failed) of the same request within "
                    f"{float(r['span_s'] or 0):.1f} s; attempts other than the one kept cost {usd(wasted, 4)}",
                ),
            )
        )
    return out


def duplicates(
    con: duckdb.DuckDBPyConnection, w: Window, rules: ClaimRules, show_prompts: bool, limit: int = 100
) -> tuple[list[Observation], int]:
    """Identical prompts paid for again: what prompt caching or a response cache would save.

    Requests a retry storm or a loop claimed are not repeats here; the repeats of a group the
    rule can report (all but the first request) are claimed."""
    text = "arg_min(prompt_text, ord) AS prompt_text," if show_prompts else ""
    saving = "greatest(input_tokens - cached_input_tokens - cache_write_tokens, 0) * (p_in - p_cached) / 1e6"
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE dup_groups AS
WITH d AS (
  SELECT *, {saving} AS saving
  FROM {_unclaimed()} WHERE prompt_hash IS NOT NULL AND status = 'ok' AND NOT coalesce(cache_hit, false)
)
-- repeats are every request but the first (by time, file, line): totals minus the first one,
-- a plain aggregate rather than a window over all requests
SELECT prompt_hash, coalesce(provider, '') AS provider, model, count(*) AS requests, min(ord) AS first_ord,
  {_owner_cols()}, {text}
  avg(input_tokens) AS avg_in, sum(cached_input_tokens) / greatest(sum(input_tokens), 1) AS cached_share,
  coalesce(fsum(cost), 0) - coalesce(arg_min(cost, ord), 0) AS repeat_cost,
  coalesce(fsum(saving), 0) - coalesce(arg_min(saving, ord), 0) AS prompt_cache_saving,
  fsum(cost) AS cost, min(price_source) AS source,  -- one per (provider, model): PriceBook.resolve
  CAST(max(day) AS VARCHAR) AS price_date
FROM d GROUP BY prompt_hash, provider, model HAVING count(*) >= 2""")
    qualifies = (
        f"requests >= {int(rules.duplicate_min_requests)} "
        f"AND cached_share <= {float(rules.duplicate_max_cached_share)} "
        f"AND prompt_cache_saving * {w.factor} >= {float(rules.duplicate_min_monthly_savings)}"
    )
    if con.execute(f"SELECT count(*) FROM dup_groups WHERE {qualifies}").fetchone()[0]:
        con.execute(f"""
INSERT INTO claimed
SELECT r.ord, 'duplicate', {SID}, r.cost, {saving}
FROM {_unclaimed()} r JOIN (SELECT * FROM dup_groups WHERE {qualifies}) g
  ON g.prompt_hash = r.prompt_hash AND g.provider = coalesce(r.provider, '') AND g.model = r.model
WHERE r.ord <> g.first_ord AND r.status = 'ok' AND NOT coalesce(r.cache_hit, false)""")
    rows = _rows(
        con,
        f"""
SELECT *, count(*) OVER () AS groups FROM dup_groups
ORDER BY prompt_cache_saving DESC, repeat_cost DESC, prompt_hash, provider, model LIMIT {int(limit)}""",
    )
    f = w.factor
    out = []
    for r in rows:
        ident = f"{r['model']}/{r['prompt_hash']}"
        attributes = {
            "model": r["model"],
            "provider": r["provider"],
            "prompt_hash": r["prompt_hash"],
            "team": r["team"],
            "app": r["app"],
        }
        if show_prompts and r.get("prompt_text"):
            attributes["prompt_preview"] = str(r["prompt_text"])[:300]
        out.append(
            Observation(
                provider="llm",
                kind="llm.duplicate_prompt",
                id=ident,
                name=ident,
                tags={k: r[k] for k in ("team", "app") if r[k]},
                owner=r["team"],
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
                evidence=(
                    f"the same prompt (hash {r['prompt_hash'][:12]}) was sent {r['requests']} times to "
                    f"{r['model']} (retries and loop steps not counted); repeats cost "
                    f"{usd(float(r['repeat_cost']), 4)}, of which "
                    f"{usd(float(r['prompt_cache_saving']), 4)} would be saved by billing their input at the "
                    "cached-input price",
                ),
            )
        )
    groups = int(rows[0]["groups"]) if rows else 0
    return out, groups


def budgets(
    con: duckdb.DuckDBPyConnection, w: Window, budget_cfg: dict[str, dict[str, float]]
) -> list[Observation]:
    """Monthly run-rate per team/app/customer against its monthly budget.

    The run-rate is the spend over the observed period (the same window as every other
    finding) times its monthly factor; the spend of the calendar month of the last record is
    kept beside it (`month_to_date_usd`) for the severity."""
    out: list[Observation] = []
    if not any(budget_cfg.get(dim) for dim in ("team", "app", "customer")) or w.end is None:
        return out  # no budgets configured: spare the pass over req
    end = w.end
    month_start = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    period = f"{w.start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC"
    f = w.factor
    for dim in ("team", "app", "customer"):
        limits = budget_cfg.get(dim) or {}
        if not limits:
            continue
        rows = _rows(
            con,
            f"""
SELECT {dim} AS name, coalesce(fsum(cost), 0) AS observed, count(*) AS requests,
  coalesce(fsum(cost) FILTER (WHERE ts >= CAST(? AS TIMESTAMP)), 0) AS mtd
FROM req WHERE {dim} IS NOT NULL GROUP BY ALL""",
            [month_start],
        )
        spent = {r["name"]: r for r in rows}
        for name, budget in limits.items():
            row = spent.get(name, {})
            observed = float(row.get("observed", 0.0))
            mtd = float(row.get("mtd", 0.0))
            projected = observed * f
            budget = float(budget)
            out.append(
                Observation(
                    provider="llm",
                    kind="llm.budget",
                    id=f"{dim}:{name}:{month_start:%Y-%m}",
                    name=f"{dim} {name}",
                    tags={dim: name} if dim in ("team", "app") else {},
                    owner=name if dim == "team" else "",
                    metrics={
                        "budget_usd": budget,
                        "observed_usd": _r(observed),
                        "month_to_date_usd": _r(mtd),
                        "projected_usd": _r(projected),
                        "projected_pct": _r(projected / budget * 100 if budget else None, 2),
                        "spent_pct": _r(mtd / budget * 100 if budget else None, 2),
                        "overrun_usd": _r(max(projected - budget, 0.0)),
                        "observed_days": _r(w.days, 3),
                        "monthly_factor": _r(f),
                    },
                    attributes={
                        "dimension": dim,
                        "name": name,
                        "month": f"{month_start:%Y-%m}",
                        "period": period,
                        "as_of": end.isoformat(),
                    },
                    evidence=(
                        f"{dim} {name}: {usd(observed)} spent over the observed period {period} "
                        f"({w.days:.2f} days); monthly run-rate {usd(projected)} (x{f:.4f}) against a "
                        f"{usd(budget)} budget; {usd(mtd)} spent in {month_start:%Y-%m} so far",
                    ),
                )
            )
    return out


def totals(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """One pass over `req` for the report's totals and unit economics and the unowned spend."""
    return _rows(
        con,
        f"""
SELECT count(*) AS requests, count(*) FILTER (WHERE cost IS NULL) AS unpriced,
  coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cached_input_tokens), 0) AS cached, coalesce(sum(reasoning_tokens), 0) AS reasoning,
  coalesce(fsum(cost), 0) AS cost, fsum(cost) AS priced_cost, fsum(logged_cost) AS logged,
  count(DISTINCT coalesce(session_id, trace_id)) AS sessions, count(DISTINCT customer) AS customers,
  count(*) FILTER (WHERE status = 'error') AS errors,
  fsum(cost) FILTER (WHERE coalesce(session_id, trace_id) IS NOT NULL) AS session_cost,
  fsum(cost) FILTER (WHERE customer IS NOT NULL) AS customer_cost,
  count(DISTINCT feature) AS features, fsum(cost) FILTER (WHERE feature IS NOT NULL) AS feature_cost,
  coalesce(fsum(cost) FILTER (WHERE team IS NULL), 0) AS unowned_cost,
  count(*) FILTER (WHERE team IS NULL) AS unowned_requests,
  {TOKEN_AGG.replace("WHERE cost IS NOT NULL", "WHERE team IS NULL AND cost IS NOT NULL")}
FROM req""",
    )[0]


def unowned(con: duckdb.DuckDBPyConnection, w: Window, tot: dict[str, Any]) -> list[Observation]:
    """`tot`: `totals(con)`, whose t*/c* token sums are those of the requests with no team."""
    if not tot["requests"]:
        return []
    top = _rows(
        con,
        """
SELECT coalesce(app, key_alias, user_id, '(unknown)') AS who, fsum(cost) AS cost FROM req
WHERE team IS NULL GROUP BY ALL ORDER BY cost DESC NULLS LAST, who LIMIT 5""",
    )
    f = w.factor
    total, unowned_cost = float(tot["cost"]), float(tot["unowned_cost"])
    return [
        Observation(
            provider="llm",
            kind="llm.unowned_spend",
            id="llm-spend-without-team",
            name="LLM spend with no team",
            metrics={
                "unowned_requests": float(tot["unowned_requests"]),
                "unowned_share": _r(unowned_cost / total if total else 0.0, 4),
                "observed_unowned_usd": _r(unowned_cost),
                "unowned_monthly_usd": _r(unowned_cost * f),
                "total_monthly_usd": _r(total * f),
                "monthly_factor": _r(f),
            },
            attributes={"top_unowned": [{"who": t["who"], "observed_usd": _r(t["cost"])} for t in top]},
            cost_lines=cost_lines(
                tot,
                "unowned",
                f,
                "computed from request logs",
                f"{w.end:%Y-%m-%d}" if w.end else "",
                "llm:unowned",
            ),
            evidence=(
                f"{tot['unowned_requests']} of {tot['requests']} requests ({usd(unowned_cost, 4)} of {usd(total, 4)}) carry "
                "no team in metadata, tags or key aliases",
            ),
        )
    ]
