"""Views of a report: `--min-severity`, `--owner` (which findings the reports, the gate and the
alerts see) and `--split-by owner` (one report per team). Pure functions of the report; the
history store still records the whole scan."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from fnmatch import fnmatchcase

from aifinops_cli.core.models import Finding, Report, Severity
from aifinops_cli.core.report import UNOWNED

SPLIT_KEYS = ("owner",)  # --split-by: what a report can be split by


def owner_of(f: Finding) -> str:
    """The owner the reports show: the resource's owner, else "(unowned)"."""
    return f.observation.owner or UNOWNED


def keep(f: Finding, min_severity: Severity | None, owners: list[str]) -> bool:
    if min_severity is not None and f.severity.rank < min_severity.rank:
        return False
    return not owners or any(fnmatchcase(owner_of(f), pattern) for pattern in owners)


def filtered(report: Report, min_severity: Severity | None, owners: list[str]) -> Report:
    """The report with only the findings at or above `min_severity` whose owner matches one of
    `owners` (globs; "(unowned)" for none); the same report when neither is given."""
    if min_severity is None and not owners:
        return report
    findings = [f for f in report.findings if keep(f, min_severity, owners)]
    view = {"min_severity": min_severity.value if min_severity else None, "owners": owners}
    return replace(report, findings=findings, parameters={**report.parameters, "filter": view})


def slug(name: str) -> str:
    """A file-name part for an owner taken from a tag: lowercase letters, digits, `.`, `_`, `-`
    only (never a path), with a short hash when anything was changed, so two owners that differ
    only in dropped characters never share a file."""
    text = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.") or "owner"
    if name == UNOWNED:
        return "unowned"
    if text != name:
        text = f"{text[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
    return text[:80]


def split_by_owner(report: Report) -> dict[str, Report]:
    """One report per owner (slug -> report), each with only that owner's findings. Estate-wide
    sections (analysis, visibility, history) stay in the whole report: a team's report shows
    its own findings and the coverage of the scan, not the other teams' spend."""
    groups: dict[str, list[Finding]] = {}
    for f in report.findings:
        groups.setdefault(owner_of(f), []).append(f)
    return {
        slug(owner): replace(
            report,
            findings=findings,
            analysis={},
            visibility=None,
            history=None,
            parameters={**report.parameters, "split": {"owner": owner}},
        )
        for owner, findings in sorted(groups.items())
    }
