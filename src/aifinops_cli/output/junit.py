"""JUnit XML: findings as test results for GitLab's and Jenkins' test-report views.

One testcase per finding (classname `aifinops.<rule>`, name the resource), one testsuite per
category, and an `aifinops coverage` suite with a testcase per scanned scope. A finding fails its
testcase when it fails the job: new and at or above `--fail-on`, or new and saving money when the
new findings reach `--fail-on-cost` (core/gate.py, recorded in the report's parameters). Known
(baselined) findings pass; suppressed ones are skipped with their reason; without a gate nothing
fails, as the exit code does not. A scope that could not be scanned is an `<error>`, a skipped
one `<skipped>`.

Elements follow the schema GitLab and Jenkins read (the Ant JUnit format): `testsuites` >
`testsuite` (name, tests, failures, errors, skipped, time, timestamp) > `testcase` (classname,
name, time) > `failure`/`error`/`skipped` (message, type) and `system-out`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime
from typing import Any

from aifinops_cli.core.gate import Gate
from aifinops_cli.core.models import CoverageEntry, Finding, Report
from aifinops_cli.core.money import money, usd
from aifinops_cli.core.report import UNOWNED
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import plain

COVERAGE_SUITE = "aifinops coverage"
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")  # plain() already dropped the C0 controls


def _x(value: Any, newlines: bool = False) -> str:
    """Text XML 1.0 can carry: control characters, lone surrogates and U+FFFE/FFFF dropped
    (ElementTree escapes <, & and quotes; it does not refuse what no parser would read)."""
    return _NOT_XML.sub("", plain(value, newlines=newlines))


def _seconds(report: Report) -> str:
    try:
        took = datetime.fromisoformat(report.finished_at) - datetime.fromisoformat(report.started_at)
    except (TypeError, ValueError):
        return "0"
    return f"{max(took.total_seconds(), 0.0):.3f}"


def _case_name(f: Finding) -> str:
    o = f.observation
    where = ", ".join(p for p in (o.account, o.region) if p)
    return f"{o.id} ({where})" if where else o.id


def _details(f: Finding) -> str:
    """The finding as a reader checks it: what, the money and where it comes from, what to do."""
    o = f.observation
    unpriced = bool(f.unpriced)
    lines = [
        f"{f.title}",
        f"{money(f.estimated_monthly_savings_usd, unpriced)}/month to save of "
        f"{money(f.monthly_cost_usd, unpriced)}/month; severity {f.severity.value}, "
        f"confidence {f.confidence.value}, status {f.status}",
        f"{o.provider} {o.kind} {o.id}" + (f" ({o.name})" if o.name and o.name != o.id else ""),
        f"owner: {o.owner or UNOWNED}; fingerprint {f.fingerprint}",
    ]
    notes = f.evidence.get("notes") if isinstance(f.evidence, dict) else None
    lines += [f"- {n}" for n in notes or []]
    for line in o.cost_lines:
        lines.append(
            f"price: {line.description}: {usd(line.unit_price_usd, 4)}/{line.unit} x "
            f"{line.quantity:,.2f} = {usd(line.monthly_usd)}/month ({line.source}, {line.price_date})"
        )
    lines.append(f"what to do: {f.recommendation}")
    return "\n".join(_x(line, newlines=True) for line in lines)


def _suite(parent: ET.Element, name: str, timestamp: str) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=_x(name), timestamp=_x(timestamp))


def _count(suite: ET.Element, counts: list[int], time: str) -> None:
    """tests, failures, errors, skipped (`counts`, in that order) and the time attribute."""
    for key, n in zip(("tests", "failures", "errors", "skipped"), counts, strict=True):
        suite.set(key, str(n))
    suite.set("time", time)


class JunitFormatter(Formatter):
    name = "junit"
    extension = "xml"
    description = "JUnit XML for GitLab/Jenkins test reports: a testcase per finding, gate failures"

    def render(self, report: Report) -> str:
        gate = Gate.of(report)
        failing = {id(f) for f in gate.failed(report)}
        root = ET.Element("testsuites", name="aifinops")
        totals = [0, 0, 0, 0]  # tests, failures, errors, skipped
        by_category: dict[str, list[Finding]] = defaultdict(list)
        for f in report.findings:
            by_category[f.category].append(f)
        for category in sorted(by_category):
            suite = _suite(root, f"aifinops: {category}", report.finished_at)
            counts = [0, 0, 0, 0]
            for f in by_category[category]:
                case = ET.SubElement(
                    suite, "testcase", classname=_x(f"aifinops.{f.rule_id}"), name=_x(_case_name(f)), time="0"
                )
                counts[0] += 1
                if f.suppressed:
                    ET.SubElement(case, "skipped", message=_x(f"suppressed: {f.suppression_reason}"))
                    counts[3] += 1
                elif id(f) in failing:
                    failure = ET.SubElement(
                        case,
                        "failure",
                        message=_x(
                            f"{f.severity.value}: {money(f.estimated_monthly_savings_usd, bool(f.unpriced))}"
                            f"/month to save ({f.rule_id})"
                        ),
                        type=_x(f.severity.value),
                    )
                    failure.text = _details(f)
                    counts[1] += 1
                else:
                    ET.SubElement(case, "system-out").text = _details(f)
            _count(suite, counts, time="0")
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        if report.coverage:
            counts = self._coverage(root, report.coverage, report.finished_at, _seconds(report))
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        _count(root, totals, time=_seconds(report))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    @staticmethod
    def _coverage(root: ET.Element, coverage: list[CoverageEntry], stamp: str, time: str) -> list[int]:
        suite = _suite(root, COVERAGE_SUITE, stamp)
        counts = [0, 0, 0, 0]
        for c in coverage:
            case = ET.SubElement(
                suite, "testcase", classname=_x(f"aifinops.coverage.{c.scanner}"), name=_x(c.scope), time="0"
            )
            counts[0] += 1
            message = _x(f"{c.status}: {c.message}" if c.message else c.status)
            if c.status == "failed":
                ET.SubElement(case, "error", message=message, type="scan-failed")
                counts[2] += 1
            elif c.status == "skipped":
                ET.SubElement(case, "skipped", message=message)
                counts[3] += 1
            else:
                ET.SubElement(case, "system-out").text = _x(f"{message}; {c.resources} resource(s)")
        _count(suite, counts, time=time)
        return counts
