"""Which findings an alert is about (`--notify`, config `notify:`): only news.

A finding is news when it is new since the baseline, not suppressed, and at or above the alert's
minimum severity and dollar amount (its monthly savings; for a budget breach or a spend anomaly,
which save nothing by themselves, the money they are about: the overspend or the excess). Known
(baselined) and suppressed findings never alert, so a daily job stays quiet until something
changes. Budget breaches and spend anomalies are told apart from waste in the message."""

from __future__ import annotations

from dataclasses import dataclass

from aifinops_cli.core.models import Finding, Report, Severity

BUDGET, ANOMALY, WASTE = "budget breach", "spend anomaly", "new waste"
TOP_ALERTED = 5  # findings listed in a message; the rest are counted


def kind_of(f: Finding) -> str:
    """Budget breach (the `budget` category), spend anomaly (an `*.spend_anomaly` resource) or waste."""
    if f.category == "budget":
        return BUDGET
    if f.observation.kind.endswith(".spend_anomaly"):
        return ANOMALY
    return WASTE


def amount_usd(f: Finding) -> float:
    """The money a finding alerts about: savings, else (a breach, an anomaly) its monthly cost."""
    return f.estimated_monthly_savings_usd or (f.monthly_cost_usd if kind_of(f) != WASTE else 0.0)


@dataclass(frozen=True)
class AlertPolicy:
    urls: tuple[str, ...] = ()
    min_severity: Severity | None = None
    min_usd: float = 0.0

    def selects(self, f: Finding) -> bool:
        if f.status != "new" or f.suppressed:
            return False
        if self.min_severity is not None and f.severity.rank < self.min_severity.rank:
            return False
        return amount_usd(f) >= self.min_usd

    def news(self, report: Report) -> list[Finding]:
        """The findings to alert about, in the report's order (priority first)."""
        return [f for f in report.findings if self.selects(f)]
