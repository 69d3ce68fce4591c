"""JSON: the canonical, versioned document (schema in `schema/report.schema.json`)."""

from __future__ import annotations

import json

from aifinops_cli.core.models import Report
from aifinops_cli.core.report import to_dict
from aifinops_cli.output.interface import Formatter


class JsonFormatter(Formatter):
    name = "json"
    extension = "json"
    description = "versioned machine-readable report (schema_version, JSON Schema shipped)"

    def render(self, report: Report) -> str:
        return json.dumps(to_dict(report), indent=2, default=str) + "\n"
