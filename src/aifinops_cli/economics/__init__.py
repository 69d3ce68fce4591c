"""Unit economics and monetization (issue 16): cost per customer, feature, app, team and model
from the LLM scanner's priced usage plus allocated shared infrastructure, outcomes, margins
against revenue, and pricing and hosting what-ifs.

Pure functions over core's data models (core/models.py UsageRollup, Report). Scanners and
output formats never import this package: the scan command adds the section to the report
(`report.economics`) and its findings (category `unit-economics`, rules/economics.yaml).
"""

from __future__ import annotations

from aifinops_cli.core.models import Finding, Report
from aifinops_cli.core.rules import Rule, evaluate, sort_findings
from aifinops_cli.economics.section import build, observations
from aifinops_cli.economics.settings import EconomicsError, EconomicsSettings, parse

__all__ = [
    "EconomicsError",
    "EconomicsSettings",
    "add_to_report",
    "build",
    "observations",
    "parse",
    "section_findings",
]


def section_findings(report: Report, settings: EconomicsSettings, rules: list[Rule]) -> list[Finding]:
    """Build the section from `report.usage` into `report.economics` and return the findings its
    rules give (none without usage: no LLM logs were read). A pipeline extension
    (core/pipeline.py ScanRequest.extensions), so baseline and suppressions apply to them."""
    if report.usage is None:
        return []
    section = build(report.usage, settings, report)
    report.economics = section
    return evaluate(rules, observations(section))


def add_to_report(report: Report, settings: EconomicsSettings, rules: list[Rule]) -> bool:
    """`section_findings` on a finished report, its findings merged in; False without usage."""
    found = section_findings(report, settings, rules)
    if found:
        report.findings = sort_findings([*report.findings, *found])
    return report.economics is not None
