"""CSV: one row per finding, for spreadsheets and ticket imports (`csv`), and the unit-economics
section as a file of its own (`economics-csv`).

`resource_name` is filled only when the name says something `resource_id` does not (the one
label rule, core/report.py `name_adds`): `dgx-03` named `dgx-03` has an empty name column."""

from __future__ import annotations

import csv
import io
from typing import Any

from aifinops_cli.core.models import Report
from aifinops_cli.core.report import finding_to_dict, name_adds
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import csv_cell

COLUMNS = [
    "fingerprint",
    "rule_id",
    "title",
    "category",
    "severity",
    "confidence",
    "priority",
    "provider",
    "account",
    "region",
    "resource_kind",
    "resource_id",
    "resource_name",
    "owner",
    "monthly_cost_usd",
    "estimated_monthly_savings_usd",
    "status",
    "suppressed",
    "recommendation",
    "overlaps",
    "priced",
]


class CsvFormatter(Formatter):
    name = "csv"
    extension = "csv"
    description = "one row per finding"

    def render(self, report: Report) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for f in report.findings:
            row = finding_to_dict(f)
            row["owner"] = row["owner"] or ""
            row["overlaps"] = row["overlaps"] or ""
            if not name_adds(row["resource_id"], row["resource_name"]):
                row["resource_name"] = ""
            writer.writerow({k: csv_cell(row.get(k)) for k in COLUMNS})
        return buf.getvalue()


# The economics section (report.economics) as its own CSV, one row per unit the way Kubecost's
# allocation export has one row per allocation: machine values (USD, not formatted), the period on
# every row, and a `section` column saying which table the row is from. Findings stay in `csv`
# (its header never changes with the inputs: ticket imports rely on it).
ECONOMICS_COLUMNS = [
    "section",  # customer | feature | team | model | allocation
    "name",
    "period_start",
    "period_end",
    "requests",
    "sessions",
    "successful_sessions",
    "failed_sessions",
    "premium_requests",
    "unpriced_requests",
    "token_cost_usd",
    "infra_cost_usd",
    "total_cost_usd",
    "cost_per_request_usd",
    "cost_per_session_usd",
    "cost_per_successful_outcome_usd",
    "cost_of_failed_usd",
    "plan",
    "monthly_revenue_usd",
    "gross_margin_usd",
    "gross_margin_pct",
    "ai_cost_share_pct",
    "revenue_source",
    # pricing what-ifs (customer rows): what the customer would pay a month under each model
    "consumption_price_usd",
    "consumption_margin_usd",
    "outcome_price_usd",
    "outcome_margin_usd",
    "hybrid_price_usd",
    "hybrid_margin_usd",
    # model and hosting what-ifs (model rows)
    "monthly_tokens",
    "cheaper_model",
    "cheaper_model_saving_usd",
    "prompt_caching_saving_usd",
    "self_hosted_cost_usd",
    "self_hosted_saving_usd",
    "break_even_monthly_tokens",
    # allocation rows: one shared line, where it came from and how it was split
    "monthly_usd",
    "source",
    "rule",
    "scope",
]


def economics_rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The section's tables as rows of ECONOMICS_COLUMNS (missing cells empty)."""
    period = {"period_start": section["period"]["start"], "period_end": section["period"]["end"]}
    pricing = {p["customer"]: p for p in section["pricing_whatif"]["customers"]}
    whatif = {f"{m['provider']}/{m['model']}": m for m in section["model_whatif"]}
    rows = []
    for dim in ("customer", "feature", "team", "model"):
        for unit in section["units"][dim]:
            row = {"section": dim, **period, **unit}
            for model, p in (pricing.get(unit["name"], {}) if dim == "customer" else {}).items():
                if isinstance(p, dict):
                    row[f"{model}_price_usd"], row[f"{model}_margin_usd"] = p["price_usd"], p["margin_usd"]
            m = whatif.get(unit["name"]) if dim == "model" else None
            if m:
                row["monthly_tokens"] = m["monthly_tokens"]
                if m.get("cheaper_model"):
                    row["cheaper_model"] = m["cheaper_model"]["model"]
                    row["cheaper_model_saving_usd"] = m["cheaper_model"]["saving_usd"]
                row["prompt_caching_saving_usd"] = m["prompt_caching"]["saving_usd"]
                if m.get("self_hosted"):
                    h = m["self_hosted"]
                    row["self_hosted_cost_usd"], row["self_hosted_saving_usd"] = (
                        h["cost_usd"],
                        h["saving_usd"],
                    )
                    row["break_even_monthly_tokens"] = h["break_even_monthly_tokens"]
            rows.append(row)
    for line in section["allocation"]:
        scope = line["scope"]
        rows.append(
            {
                "section": "allocation",
                "name": line["resource"],
                **period,
                "monthly_usd": line["monthly_usd"],
                "source": line["source"],
                "rule": line["rule"],
                "scope": "all" if scope["dimension"] == "all" else f"{scope['dimension']}={scope['value']}",
            }
        )
    return rows


class EconomicsCsvFormatter(Formatter):
    name = "economics-csv"
    extension = "economics.csv"
    description = "the unit-economics section, one row per customer, feature, team, model and shared line"

    def render(self, report: Report) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=ECONOMICS_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in economics_rows(report.economics) if report.economics else []:
            writer.writerow({k: csv_cell(row.get(k)) for k in ECONOMICS_COLUMNS})
        return buf.getvalue()
