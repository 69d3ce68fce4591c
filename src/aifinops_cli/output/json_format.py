"""JSON: the canonical, versioned document (schema in `schema/report.schema.json`)."""

from __future__ import annotations

import json
from typing import IO

from aifinops_cli.core.models import Report
from aifinops_cli.core.report import finding_to_dict, to_dict
from aifinops_cli.output.base import Formatter


def _nested(value: object) -> str:
    """`value` as json.dumps(indent=2) writes it one level down (inside the top object)."""
    return json.dumps(value, indent=2, default=str).replace("\n", "\n  ")


class JsonFormatter(Formatter):
    name = "json"
    extension = "json"
    description = "versioned machine-readable report (schema_version, JSON Schema shipped)"

    def render(self, report: Report) -> str:
        return json.dumps(to_dict(report), indent=2, default=str) + "\n"

    def write_to(self, report: Report, handle: IO[str]) -> None:
        """The same bytes as `render`, one finding at a time: 100,000 findings never sit in
        memory as one string (nor as 100,000 dicts)."""
        doc = to_dict(report, include_findings=False)
        handle.write("{")
        for n, (key, value) in enumerate(doc.items()):
            handle.write(("," if n else "") + f"\n  {json.dumps(key)}: ")
            if key != "findings" or not report.findings:
                handle.write(_nested(value))
                continue
            handle.write("[")
            for i, f in enumerate(report.findings):
                body = json.dumps(finding_to_dict(f), indent=2, default=str).replace("\n", "\n    ")
                handle.write(("," if i else "") + "\n    " + body)
            handle.write("\n  ]")
        handle.write("\n}\n")
