"""The economics section (report.economics, built by economics/section.py) as titled tables of
text cells: what every format shows, decided once here; each format only draws them. The JSON
report keeps every row; these keep the first `limit` of each table (largest cost first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aifinops_cli.core.money import NONE, signed_usd, usd

ROWS = 15


@dataclass(frozen=True)
class ViewTable:
    title: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    more: int = 0  # rows left out (in the JSON report)


def _usd(x: float | None, places: int = 2) -> str:
    return usd(x, places) if x is not None else NONE


def _signed(x: float | None) -> str:
    return signed_usd(x) if x is not None else NONE


def _pct(x: float | None) -> str:
    return f"{x:.1f}%" if x is not None else NONE


def _cut(rows: list[Any], limit: int) -> tuple[list[Any], int]:
    return rows[:limit], max(0, len(rows) - limit)


def headline(section: dict[str, Any]) -> str:
    t = section["totals"]
    p = section["period"]
    line = (
        f"AI cost {_usd(t['total_cost_usd'])}/month (tokens {_usd(t['token_cost_usd'])} + shared "
        f"infrastructure {_usd(t['infra_cost_usd'])}), observed {p['observed_days']:g} days x "
        f"{p['monthly_factor']:g} to a month"
    )
    if t.get("monthly_revenue_usd") is not None:
        line += (
            f"; revenue {_usd(t['monthly_revenue_usd'])}/month, gross margin {_signed(t['gross_margin_usd'])}"
        )
    return line + f". Outcome rule: {section['outcome_rule']}."


def tables(section: dict[str, Any], limit: int = ROWS) -> list[ViewTable]:
    out = []
    customers, more = _cut(section["units"]["customer"], limit)
    out.append(
        ViewTable(
            "Unit economics by customer (per month)",
            (
                "Customer",
                "Plan",
                "Revenue",
                "AI cost",
                "of which infra",
                "Margin",
                "Margin %",
                "Cost/request",
                "Cost/success",
                "Cost of failed",
            ),
            [
                [
                    c["name"],
                    c.get("plan") or "",
                    _usd(c.get("monthly_revenue_usd")),
                    _usd(c["total_cost_usd"]),
                    _usd(c["infra_cost_usd"]),
                    _signed(c.get("gross_margin_usd")),
                    _pct(c.get("gross_margin_pct")),
                    _usd(c["cost_per_request_usd"], 4),
                    _usd(c["cost_per_successful_outcome_usd"], 4),
                    _usd(c["cost_of_failed_usd"]),
                ]
                for c in customers
            ],
            more,
        )
    )
    for dim, title in (("feature", "feature/app"), ("team", "team"), ("model", "model (tokens only)")):
        units, more = _cut(section["units"][dim], limit)
        out.append(
            ViewTable(
                f"Cost by {title} (per month)",
                (
                    dim.capitalize(),
                    "Requests",
                    "Sessions",
                    "Successful",
                    "Cost",
                    "Cost/request",
                    "Cost/success",
                    "Revenue",
                    "Margin",
                ),
                [
                    [
                        u["name"],
                        f"{u['requests']:,}",
                        f"{u['sessions']:,}",
                        f"{u['successful_sessions']:,}",
                        _usd(u["total_cost_usd"]),
                        _usd(u["cost_per_request_usd"], 4),
                        _usd(u["cost_per_successful_outcome_usd"], 4),
                        _usd(u.get("monthly_revenue_usd")),
                        _signed(u.get("gross_margin_usd")),
                    ]
                    for u in units
                ],
                more,
            )
        )
    pricing = section["pricing_whatif"]
    rows, more = _cut(pricing["customers"], limit)
    models = pricing["models"]
    out.append(
        ViewTable(
            f"Pricing what-if per customer (per month; {_parameters(pricing['parameters'])})",
            (
                "Customer",
                "Cost",
                "Current",
                *[f"{m}: pays (margin)" for m in models],
                *[f"{m} vs current" for m in models],
            ),
            [
                [
                    r["customer"],
                    _usd(r["cost_usd"]),
                    _usd(r["current_usd"]),
                    *[f"{_usd(r[m]['price_usd'])} ({_signed(r[m]['margin_usd'])})" for m in models],
                    *[
                        f"{r[m]['customer']} {_usd(abs(r[m]['change_vs_current_usd']))}"
                        if r[m]["customer"]
                        else NONE
                        for m in models
                    ],
                ]
                for r in rows
            ],
            more,
        )
    )
    rows, more = _cut(section["model_whatif"], limit)
    out.append(
        ViewTable(
            "Model and hosting what-if (per month)",
            (
                "Model",
                "Cost",
                "Cheaper model",
                "saves",
                "Prompt caching saves",
                "Self-hosted",
                "saves",
                "Break-even tokens/month",
            ),
            [
                [
                    f"{m['provider']}/{m['model']}",
                    _usd(m["cost_usd"]),
                    (m.get("cheaper_model") or {}).get("model", ""),
                    _usd((m.get("cheaper_model") or {}).get("saving_usd")),
                    _usd(m["prompt_caching"]["saving_usd"]),
                    _usd((m.get("self_hosted") or {}).get("cost_usd")),
                    _usd((m.get("self_hosted") or {}).get("saving_usd")),
                    _tokens(m.get("self_hosted")),
                ]
                for m in rows
            ],
            more,
        )
    )
    lines, more = _cut(section["allocation"], limit)
    if lines:
        out.append(
            ViewTable(
                "Shared infrastructure allocated (per month)",
                ("Source", "Resource", "Amount", "Rule", "Largest share"),
                [
                    [
                        a["source"],
                        a["resource"],
                        _usd(a["monthly_usd"]),
                        a["rule"],
                        _share(a),
                    ]
                    for a in lines
                ],
                more,
            )
        )
    return out


def _tokens(hosted: dict[str, Any] | None) -> str:
    if not hosted:
        return ""
    even = hosted.get("break_even_monthly_tokens")
    return f"{even:,.0f}" if even is not None else "never"


def _share(a: dict[str, Any]) -> str:
    shares = a.get("shares") or []
    if not shares:
        return ""
    s = shares[0]
    return f"{s['customer']}/{s['feature']} {s['share'] * 100:.1f}% of {a.get('targets', 1)}"


def _parameters(params: dict[str, Any]) -> str:
    parts = [f"consumption: cost x (1 + {params['margin_pct']:g}%)"]
    if "price_per_outcome_usd" in params:
        parts.append(f"outcome: {usd(params['price_per_outcome_usd'])} per successful session")
    h = params.get("hybrid")
    if h:
        allowance = h["included_actions"]
        allowance = f"{allowance:,.0f}" if isinstance(allowance, int | float) else str(allowance)
        parts.append(
            f"hybrid: {usd(h['platform_fee_usd'])} fee with {allowance} standard requests, "
            f"{usd(h['standard_overage_usd'])} per standard request beyond, "
            f"{usd(h['premium_action_usd'])} per premium request"
        )
    return "; ".join(parts)
