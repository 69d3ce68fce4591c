"""OpenMetrics text for Prometheus: write it where node-exporter's textfile collector reads
(`--collector.textfile.directory`), e.g. `-f openmetrics -o /var/lib/node_exporter/aifinops.prom`.

Every figure is the report's own: the waste (monthly savings of the counted findings) in total
and by category, owner and provider as the JSON `summary` has them; the findings by severity and
status; the scan's duration, scopes by status and coverage (scopes ok / scopes tried), and the
visibility score. All gauges: each run replaces the file (atomically, so the collector never
reads half of it). The text ends in `# EOF`, which the OpenMetrics parser requires and the
Prometheus text parser reads as a comment.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from aifinops_cli.core.models import Report, Severity
from aifinops_cli.core.report import totals
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import plain

PREFIX = "aifinops_"
STATUSES = ("ok", "partial", "failed", "skipped")


def _label(value: Any) -> str:
    """A label value: control characters dropped, then `\\`, `"` and newlines escaped."""
    text = plain(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, int):  # counts
        return str(value)
    return repr(round(float(value), 6))


class _Families:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def gauge(
        self, name: str, help_text: str, samples: list[tuple[dict[str, Any], float]], unit: str = ""
    ) -> None:
        full = PREFIX + name
        self.lines.append(f"# TYPE {full} gauge")
        if unit:
            self.lines.append(f"# UNIT {full} {unit}")
        self.lines.append(f"# HELP {full} {help_text}")
        # values that read the same once control characters are dropped are one series: summed,
        # since a label set may appear once in a family
        merged: dict[str, float] = {}
        for labels, value in samples:
            inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            merged[inner] = merged.get(inner, 0) + value
        for inner, value in merged.items():
            self.lines.append(f"{full}{{{inner}}} {_number(value)}" if inner else f"{full} {_number(value)}")


def _epoch(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except (TypeError, ValueError):
        return None


class OpenMetricsFormatter(Formatter):
    name = "openmetrics"
    extension = "prom"
    description = "OpenMetrics gauges for Prometheus (node-exporter textfile collector)"

    def render(self, report: Report) -> str:
        s = totals(report.active_findings)
        out = _Families()
        out.gauge("waste_monthly_usd", "Monthly savings of the counted findings (the fragmentation tax).",
                  [({}, s["monthly_waste_usd"])], "usd")  # fmt: skip
        for key, label in (("by_category", "category"), ("by_owner", "owner"), ("by_provider", "provider")):
            out.gauge(
                f"waste_by_{label}_monthly_usd",
                f"Monthly savings of the counted findings by {label}.",
                [({label: k}, v) for k, v in s[key].items()],
                "usd",
            )
        status = Counter((f.severity.value, f.status) for f in report.active_findings)
        pairs = [(sev.value, st) for sev in Severity for st in ("new", "known")]
        out.gauge(
            "findings",
            "Unsuppressed findings by severity and status (new, or known from the baseline).",
            [({"severity": sev, "status": st}, status[(sev, st)]) for sev, st in pairs],
        )
        out.gauge(
            "findings_suppressed",
            "Findings held back by a suppression.",
            [({}, len(report.findings) - len(report.active_findings))],
        )
        started, finished = _epoch(report.started_at), _epoch(report.finished_at)
        if started is not None and finished is not None:
            out.gauge(
                "scan_duration_seconds",
                "How long the scan took.",
                [({}, max(finished - started, 0.0))],
                "seconds",
            )
            out.gauge(
                "scan_timestamp_seconds", "When the scan finished (Unix time).", [({}, finished)], "seconds"
            )
        scopes = Counter((c.scanner, c.status) for c in report.coverage)
        out.gauge(
            "scan_scopes",
            "Scopes (regions, projects, contexts, files) by scanner and status.",
            [({"scanner": scanner, "status": st}, n) for (scanner, st), n in sorted(scopes.items())],
        )
        if report.coverage:
            ok = sum(1 for c in report.coverage if c.status == "ok")
            out.gauge(
                "scan_coverage_ratio",
                "Scopes scanned fully / scopes tried.",
                [({}, ok / len(report.coverage))],
                "ratio",
            )
        score = (report.visibility or {}).get("score")
        if isinstance(score, int | float):
            out.gauge("visibility_score", "Visibility of the AI data path, 0 to 100 (README).", [({}, score)])
        return "\n".join([*out.lines, "# EOF"]) + "\n"
