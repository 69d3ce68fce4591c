"""Unit economics and monetization (issue 16): cost per customer, feature, app, team and model
from the LLM scanner's priced usage plus allocated shared infrastructure, outcomes, margins
against revenue, and pricing and hosting what-ifs.

Pure functions over core's data models (core/models.py UsageRollup, Report). Scanners and
output formats never import this package: the scan command adds the section to the report
(`report.economics`) and its findings (category `unit-economics`, rules/economics.yaml).
"""

from __future__ import annotations

from aifinops_cli.core.models import Report
from aifinops_cli.core.rules import Rule, evaluate, sort_findings
from aifinops_cli.economics.section import build, observations
from aifinops_cli.economics.settings import EconomicsError, EconomicsSettings, parse

__all__ = ["EconomicsError", "EconomicsSettings", "add_to_report", "build", "observations", "parse"]


def add_to_report(report: Report, settings: EconomicsSettings, rules: list[Rule]) -> bool:
    """Build the section from `report.usage` and add it with its findings; False without usage
    (no LLM logs were read)."""
    if report.usage is None:
        return False
    section = build(report.usage, settings, report)
    report.economics = section
    found = evaluate(rules, observations(section))
    if found:
        report.findings = sort_findings([*report.findings, *found])
    return True
