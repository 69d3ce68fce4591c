# ruff: noqa: E501  (SQL text reads better unwrapped)
"""The `analysis["llm"]` section: what was analysed, so totals reconcile with an invoice."""

from __future__ import annotations

from typing import Any

import duckdb

from aifinops_cli.scanners.llm.analysis import Window, _rows


def _money(x: Any) -> float | None:
    return None if x is None else round(float(x), 4)


TOP_WHO = 5  # teams, API keys and sessions named per kind in the logged-vs-computed table
# the spend tables: (grouping key, table label, row limit); one GROUPING SETS pass makes them all
BY = (
    ("provider", "provider", 50),
    ("model", "model", 50),
    ("team", "team", 50),
    ("app", "app", 50),
    ("customer", "customer", 50),
    ("feature", "feature", 30),
)


def _by_all(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Spend per provider, model, team, app, customer and feature in one pass over `req`.

    Rows per key: (key, requests, input, cached, output, reasoning, cost, unpriced, share),
    ordered by cost (NULLs last) then requests, as many as the table shows."""
    keys = ", ".join(f"coalesce({k}, '(none)') AS k_{k}" for k, _, _ in BY)
    sets = ", ".join(f"(k_{k})" for k, _, _ in BY)
    which = "CASE " + " ".join(f"WHEN GROUPING(k_{k}) = 0 THEN '{k}'" for k, _, _ in BY) + " END"
    value = "coalesce(" + ", ".join(f"k_{k}" for k, _, _ in BY) + ")"
    rows = con.execute(f"""
WITH g AS (
  SELECT {which} AS dim, {value} AS k, count(*) AS requests, sum(input_tokens) AS input_tokens,
    sum(cached_input_tokens) AS cached, sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning, fsum(cost) AS cost, count(*) FILTER (WHERE cost IS NULL) AS unpriced
  FROM (SELECT {keys}, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost FROM req)
  GROUP BY GROUPING SETS ({sets})
)
SELECT dim, k, requests, input_tokens, cached, output_tokens, reasoning, cost, unpriced,
  cost / nullif(fsum(cost) OVER (PARTITION BY dim), 0) AS share,
  row_number() OVER (PARTITION BY dim ORDER BY cost DESC NULLS LAST, requests DESC) AS rank
FROM g""").fetchall()
    out: dict[str, list[tuple]] = {k: [] for k, _, _ in BY}
    limits = {k: n for k, _, n in BY}
    for dim, *row, rank in sorted(rows, key=lambda r: (r[0], r[-1])):
        if rank <= limits[dim]:
            out[dim].append(tuple(row))
    return out


def _by(rows: list[tuple], label: str) -> dict[str, Any]:
    return {
        "title": f"LLM spend by {label}",
        "columns": [
            label,
            "requests",
            "input tokens",
            "cached input tokens",
            "output tokens",
            "reasoning tokens",
            "cost USD",
            "unpriced requests",
            "share",
        ],
        "rows": [
            [
                k,
                n,
                int(i or 0),
                int(c or 0),
                int(o or 0),
                int(r or 0),
                _money(cost),
                u,
                None if s is None else round(float(s), 4),
            ]
            for k, n, i, c, o, r, cost, u, s in rows
        ],
    }


def build(
    con: duckdb.DuckDBPyConnection,
    w: Window,
    both: dict[str, Any],
    malformed: int,
    bad_examples: list[tuple],
    unpriced_models: list[dict[str, Any]],
    files: list[dict[str, Any]],
    show_prompts: bool,
    duplicate_groups: int,
    claims: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`both`: analysis.totals, the one pass shared with the unowned-spend observation;
    `claims`: analysis.claims, the waste each finding kind claimed (each request once)."""
    claims = claims or []
    tot = {
        k: both[k]
        for k in (
            "requests",
            "unpriced",
            "input_tokens",
            "output_tokens",
            "cached",
            "reasoning",
            "cost",
            "logged",
            "sessions",
            "customers",
            "errors",
        )
    }

    def avg(cost: Any, n: Any) -> float | None:
        return None if cost is None or not n else float(cost) / n

    unit = [
        {"per": "request", "n": both["requests"], "avg": avg(both["priced_cost"], both["requests"])},
        {"per": "session", "n": both["sessions"], "avg": avg(both["session_cost"], both["sessions"])},
        {"per": "customer", "n": both["customers"], "avg": avg(both["customer_cost"], both["customers"])},
        {"per": "feature", "n": both["features"], "avg": avg(both["feature_cost"], both["features"])},
    ]
    by = _by_all(con)
    per_feature = [
        {"feature": k, "requests": n, "cost": cost, "per_request": None if cost is None else cost / n}
        for k, n, _i, _c, _o, _r, cost, _u, _s in by["feature"]
    ]
    per_customer = [
        {"customer": k, "requests": n, "cost": cost, "per_request": None if cost is None else cost / n}
        for k, n, _i, _c, _o, _r, cost, _u, _s in by["customer"][:30]
    ]
    # no record carries a logged cost (tot["logged"] is NULL): nothing to compare, no pass over req
    # one pass, four groupings: per model (as before), and per team, API key and session, so the
    # report names who is behind the largest differences, not only a percentage per model
    compared = (
        []
        if tot["logged"] is None
        else _rows(
            con,
            f"""
SELECT CASE WHEN grouping(model) = 0 THEN 'model' WHEN grouping(team) = 0 THEN 'team'
            WHEN grouping(key_alias) = 0 THEN 'key' ELSE 'session' END AS dimension,
  coalesce(provider, '') AS provider, model, team, key_alias, sid, count(*) AS compared,
  fsum(logged_cost) AS logged, fsum(cost) AS computed, fsum(logged_cost) - fsum(cost) AS diff,
  (fsum(logged_cost) - fsum(cost)) / nullif(fsum(cost), 0) AS diff_share
FROM (SELECT provider, model, team, key_alias, coalesce(session_id, trace_id) AS sid, logged_cost, cost
      FROM req WHERE logged_cost IS NOT NULL AND cost IS NOT NULL)
GROUP BY GROUPING SETS ((provider, model), (team), (key_alias), (sid))
-- requests with no key or session logged are no key or session to name (no team is: unowned)
HAVING (grouping(key_alias) = 1 OR key_alias IS NOT NULL) AND (grouping(sid) = 1 OR sid IS NOT NULL)
QUALIFY dimension = 'model' OR row_number() OVER (PARTITION BY dimension
                                                  ORDER BY abs(diff) DESC, team, key_alias, sid) <= {TOP_WHO}
ORDER BY dimension, abs(diff) DESC, provider, model, team, key_alias, sid""",
        )
    )
    discrepancies = [
        {k: d[k] for k in ("provider", "model", "compared", "logged", "computed", "diff_share")}
        for d in compared
        if d["dimension"] == "model"
    ]
    by_who = [
        {
            "dimension": d["dimension"],
            "name": d[{"team": "team", "key": "key_alias", "session": "sid"}[d["dimension"]]] or "(none)",
            **{k: d[k] for k in ("compared", "logged", "computed", "diff", "diff_share")},
        }
        for d in compared
        if d["dimension"] != "model" and abs(d["diff"] or 0) >= 1e-9
    ]  # not float noise
    by_who.sort(key=lambda d: (-abs(d["diff"]), d["dimension"], d["name"]))
    price_table = _rows(
        con,
        """
SELECT p.provider, p.model, p.priced_as, p.source, p.price_from, min(p.day) AS first_day, max(p.day) AS last_day,
  p.band_lo, p.band_hi, p.p_in, p.p_cached, p.p_cache_write, p.p_out, p.p_reasoning, p.discount_pct
FROM prices p GROUP BY ALL
-- a total order: a model priced both standard and as a batch variant has two rows of one band
ORDER BY p.provider, p.model, p.band_lo, p.priced_as, p.source, p.price_from, first_day""",
    )
    total_cost = float(tot["cost"])
    f = w.factor
    summary = {
        "requests": tot["requests"],
        "period": (f"{w.start:%Y-%m-%d %H:%M} .. {w.end:%Y-%m-%d %H:%M} UTC" if w.start else "no records"),
        "observed days": round(w.days, 2),
        "computed cost USD": round(total_cost, 4),
        "monthly run-rate USD": round(total_cost * f, 2),
        "logged cost USD": _money(tot["logged"]),
        "input tokens": int(tot["input_tokens"]),
        "cached input tokens": int(tot["cached"]),
        "output tokens": int(tot["output_tokens"]),
        "reasoning tokens": int(tot["reasoning"]),
        "error responses": tot["errors"],
        "unpriced requests": tot["unpriced"],
        "unparseable records": malformed,
        "prompt text in report": "shown (--show-prompts)" if show_prompts else "hidden (hashes only)",
    }
    tables = [
        _by(by["provider"], "provider"),
        _by(by["model"], "model"),
        _by(by["team"], "team"),
        _by(by["app"], "app"),
        _by(by["customer"], "customer"),
        {
            "title": "LLM unit economics",
            "columns": ["per", "count", "average cost USD"],
            "rows": [[u["per"], u["n"], _money(u["avg"])] for u in unit],
        },
        {
            "title": "LLM cost per feature",
            "columns": ["feature", "requests", "cost USD", "cost per request USD"],
            "rows": [
                [r["feature"], r["requests"], _money(r["cost"]), _money(r["per_request"])]
                for r in per_feature
            ],
        },
        {
            "title": "LLM cost per customer",
            "columns": ["customer", "requests", "cost USD", "cost per request USD"],
            "rows": [
                [r["customer"], r["requests"], _money(r["cost"]), _money(r["per_request"])]
                for r in per_customer
            ],
        },
    ]
    if discrepancies:
        tables.append(
            {
                "title": "Logged vs computed LLM cost",
                "columns": [
                    "provider",
                    "model",
                    "requests compared",
                    "logged USD",
                    "computed USD",
                    "difference",
                ],
                "rows": [
                    [
                        d["provider"],
                        d["model"],
                        d["compared"],
                        _money(d["logged"]),
                        _money(d["computed"]),
                        None if d["diff_share"] is None else _signed_pct(d["diff_share"]),
                    ]
                    for d in discrepancies
                ],
            }
        )
    if by_who:
        tables.append(
            {
                "title": "Largest logged vs computed LLM cost differences (team, API key, session)",
                "columns": [
                    "by",
                    "name",
                    "requests compared",
                    "logged USD",
                    "computed USD",
                    "difference USD",
                    "difference",
                ],
                "rows": [
                    [
                        d["dimension"],
                        d["name"],
                        d["compared"],
                        _money(d["logged"]),
                        _money(d["computed"]),
                        _money(d["diff"]),
                        None if d["diff_share"] is None else _signed_pct(d["diff_share"]),
                    ]
                    for d in by_who
                ],
            }
        )
    if claims and any(c["requests"] for c in claims):
        tables.append(
            {
                "title": "LLM waste by finding, each request counted once",
                "columns": [
                    "claimed by (in this order)",
                    "requests",
                    "their cost USD",
                    "wasted USD",
                    "wasted USD / month",
                ],
                "rows": [
                    [
                        c["kind"],
                        c["requests"],
                        _money(c["observed_cost_usd"]),
                        _money(c["observed_wasted_usd"]),
                        _money(c["wasted_monthly_usd"]),
                    ]
                    for c in claims
                ]
                + [
                    [
                        "total",
                        sum(c["requests"] for c in claims),
                        _money(sum(c["observed_cost_usd"] or 0 for c in claims)),
                        _money(sum(c["observed_wasted_usd"] or 0 for c in claims)),
                        _money(sum(c["wasted_monthly_usd"] or 0 for c in claims)),
                    ]
                ],
            }
        )
    if unpriced_models:
        tables.append(
            {
                "title": "Unpriced LLM models (not counted as $0)",
                "columns": ["provider", "model", "requests", "input tokens", "output tokens", "reason"],
                "rows": [
                    [
                        u["provider"],
                        u["model"],
                        u["requests"],
                        u["input_tokens"],
                        u["output_tokens"],
                        u["reason"],
                    ]
                    for u in unpriced_models
                ],
            }
        )
    if bad_examples:
        tables.append(
            {
                "title": "Unparseable LLM log records (first few)",
                "columns": ["file", "line", "problem"],
                "rows": [[f, n, why] for f, n, why in bad_examples],
            }
        )
    tables.append(
        {
            "title": "LLM price table (USD per 1M tokens)",
            "columns": [
                "provider",
                "model",
                "priced as",
                "source",
                "price since",
                "days used",
                "input tokens in",
                "input",
                "cached input",
                "cache write",
                "output",
                "reasoning",
            ],
            "rows": [
                [
                    p["provider"],
                    p["model"],
                    p["priced_as"],
                    p["source"],
                    p["price_from"] or "-",
                    f"{p['first_day']}..{p['last_day']}",
                    "all"
                    if p["band_lo"] < 0 and p["band_hi"] > 2**61
                    else f"({p['band_lo']}, {p['band_hi'] if p['band_hi'] < 2**61 else 'inf'}]",
                    p["p_in"],
                    p["p_cached"],
                    p["p_cache_write"],
                    p["p_out"],
                    p["p_reasoning"],
                ]
                for p in price_table
            ],
        }
    )
    data = {
        "window": {
            "start": w.start.isoformat() if w.start else None,
            "end": w.end.isoformat() if w.end else None,
            "days": w.days,
            "monthly_factor": f,
        },
        "totals": {k: _exact(v) for k, v in tot.items()},
        "files": files,
        "unpriced_models": unpriced_models,
        "malformed_records": malformed,
        "malformed_examples": [{"file": f_, "line": n, "problem": why} for f_, n, why in bad_examples],
        "duplicate_prompt_groups": duplicate_groups,
        "discrepancies": [{k: _exact(v) for k, v in d.items()} for d in discrepancies],
        "discrepancies_by_who": [{k: _exact(v) for k, v in d.items()} for d in by_who],
        "waste_claims": [{k: _exact(v) for k, v in c.items()} for c in claims],
        "price_table": [
            {k: (str(v) if k in ("first_day", "last_day") else v) for k, v in p.items()} for p in price_table
        ],
    }
    return {"title": "LLM request logs", "summary": summary, "tables": tables, "data": data}


def _exact(value: Any) -> Any:
    """Floats to 10 decimals (a millionth of a cent): the last bits of a sum of doubles depend on
    the order DuckDB's threads add them in, and the same logs must give the same report."""
    return round(float(value), 10) + 0.0 if isinstance(value, float) else value  # + 0.0: no -0.0


def _signed_pct(share: float) -> str:
    """+1.2% / -1.2%, and a plain 0.0% for float noise either side of zero."""
    pct = round(share * 100, 1)
    return "0.0%" if pct == 0 else f"{pct:+.1f}%"
