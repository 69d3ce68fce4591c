"""The CI gate: which findings fail a job (`--fail-on SEVERITY`, `--fail-on-cost USD`), in one place
for the exit code, its one-line reason, the JUnit report and the notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from aifinops_cli.core.models import Finding, Report, Severity
from aifinops_cli.core.money import usd


def new_findings(report: Report) -> list[Finding]:
    """New since the baseline and not suppressed: what the gate, JUnit and alerts judge."""
    return [f for f in report.findings if f.status == "new" and not f.suppressed]


def new_savings_usd(report: Report) -> float:
    """The monthly savings of the new findings that count (an overlap's money is already in
    another finding: never twice), rounded to the cent as the reports show them."""
    return round(sum(f.estimated_monthly_savings_usd for f in new_findings(report) if f.counted), 2)


@dataclass(frozen=True)
class Gate:
    """`--fail-on` and `--fail-on-cost`, either of which trips the gate (exit 1)."""

    fail_on: Severity | None = None
    fail_on_cost: float | None = None

    PARAMETER: ClassVar[str] = "gate"  # report.parameters key: the gate a report was judged against

    def record(self, report: Report) -> None:
        """Note the gate in the report (JSON `parameters.gate`), so a format such as JUnit marks
        the same findings failed as the exit code does; nothing when no gate was asked for."""
        if self.fail_on is not None or self.fail_on_cost is not None:
            report.parameters[self.PARAMETER] = {
                "fail_on": self.fail_on.value if self.fail_on is not None else None,
                "fail_on_cost_usd": self.fail_on_cost,
            }

    @classmethod
    def of(cls, report: Report) -> Gate:
        """The gate `record` noted in this report (none: nothing fails)."""
        noted: Any = report.parameters.get(cls.PARAMETER) or {}
        severity, cost = noted.get("fail_on"), noted.get("fail_on_cost_usd")
        return cls(Severity(severity) if severity else None, float(cost) if cost is not None else None)

    def at_severity(self, report: Report) -> list[Finding]:
        """New findings at or above --fail-on (none without it)."""
        return [f for f in report.findings if self.fails(f)]

    def fails(self, finding: Finding) -> bool:
        """Whether this one finding is at or above --fail-on (the JUnit failure of its testcase)."""
        return (
            self.fail_on is not None
            and finding.status == "new"
            and not finding.suppressed
            and finding.severity.rank >= self.fail_on.rank
        )

    def cost_tripped(self, report: Report) -> bool:
        """At least one new finding, and their savings reach --fail-on-cost (0: any new one)."""
        if self.fail_on_cost is None or not any(f.counted for f in new_findings(report)):
            return False
        return new_savings_usd(report) >= self.fail_on_cost

    def tripped(self, report: Report) -> bool:
        return bool(self.at_severity(report)) or self.cost_tripped(report)

    def failed(self, report: Report) -> list[Finding]:
        """The findings that fail the job: those at or above --fail-on and, when --fail-on-cost
        trips, every new counted one that saves money (together they reach it)."""
        cost = self.cost_tripped(report)

        def saves(f: Finding) -> bool:
            return f.status == "new" and f.counted and f.estimated_monthly_savings_usd > 0

        return [f for f in report.findings if self.fails(f) or (cost and saves(f))]

    def reasons(self, report: Report) -> list[str]:
        """Why it tripped, each a phrase for the one stderr line."""
        out: list[str] = []
        gate = self.at_severity(report)
        if gate and self.fail_on is not None:
            total = sum(f.estimated_monthly_savings_usd for f in gate)
            out.append(f"{len(gate)} new finding(s) at or above {self.fail_on.value} ({usd(total)}/month)")
        if self.cost_tripped(report) and self.fail_on_cost is not None:
            out.append(
                f"new findings save {usd(new_savings_usd(report))}/month, at or above "
                f"--fail-on-cost {usd(self.fail_on_cost)}"
            )
        return out
