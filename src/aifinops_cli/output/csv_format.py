"""CSV: one row per finding, for spreadsheets and ticket imports.

`resource_name` is filled only when the name says something `resource_id` does not (the one
label rule, core/report.py `name_adds`): `dgx-03` named `dgx-03` has an empty name column."""

from __future__ import annotations

import csv
import io

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
