"""`--format openmetrics`, read back with prometheus_client's OpenMetrics parser (strict: `# EOF`,
UNIT suffixes, label escaping) and its Prometheus text parser (what node-exporter's textfile
collector uses). Values against the FOCUS export of tests/focus_export.py: $16.00 egress savings
(ml-research, medium) + $0.00 untagged (unowned, low)."""

from __future__ import annotations

import json

import pytest

from aifinops_cli.core.models import CoverageEntry
from aifinops_cli.output import formatters
from tests.conftest import run_cli
from tests.focus_export import write_focus
from tests.output.test_hostile_output import VALUES, hostile_report

om = pytest.importorskip("prometheus_client.openmetrics.parser")
prom = pytest.importorskip("prometheus_client.parser")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in om.text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert {k: v for k, v in out.items()} == {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in prom.text_string_to_metric_families(text)
        for s in family.samples
    }  # both parsers read the same samples
    return out


def test_waste_findings_and_coverage_from_a_scan(runner, tmp_path):
    export = write_focus(tmp_path / "focus.csv")
    target = tmp_path / "textfile" / "aifinops.prom"
    result = run_cli(runner, "-q", "scan", "--billing", str(export), "-f", "openmetrics", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    text = target.read_text()
    assert text.endswith("# EOF\n")
    got = _samples(text)
    assert got[("aifinops_waste_monthly_usd", ())] == 16.0  # 16.00 + 0.00
    assert got[("aifinops_waste_by_category_monthly_usd", (("category", "data-egress"),))] == 16.0
    assert got[("aifinops_waste_by_category_monthly_usd", (("category", "attribution"),))] == 0.0
    assert got[("aifinops_waste_by_owner_monthly_usd", (("owner", "ml-research"),))] == 16.0
    assert got[("aifinops_waste_by_owner_monthly_usd", (("owner", "(unowned)"),))] == 0.0
    assert got[("aifinops_waste_by_provider_monthly_usd", (("provider", "billing"),))] == 16.0
    assert got[("aifinops_findings", (("severity", "medium"), ("status", "new")))] == 1
    assert got[("aifinops_findings", (("severity", "low"), ("status", "new")))] == 1
    assert got[("aifinops_findings", (("severity", "high"), ("status", "new")))] == 0
    assert got[("aifinops_scan_scopes", (("scanner", "billing"), ("status", "ok")))] == 1
    assert got[("aifinops_scan_coverage_ratio", ())] == 1.0
    assert got[("aifinops_scan_duration_seconds", ())] >= 0
    # the same figures as the JSON summary of the same scan
    doc = json.loads(run_cli(runner, "-q", "scan", "--billing", str(export), "-f", "json").stdout)
    assert doc["summary"]["by_owner"] == {
        labels[0][1]: v for (name, labels), v in got.items() if name == "aifinops_waste_by_owner_monthly_usd"
    }


def test_coverage_ratio_counts_scopes_not_fully_scanned(runner, tmp_path):
    export = write_focus(tmp_path / "focus.csv")
    broken = tmp_path / "broken.csv"
    broken.write_text("not,a,billing,export\n1,2,3,4\n")
    result = run_cli(
        runner, "-q", "scan", "--billing", str(export), "--billing", str(broken), "-f", "openmetrics"
    )
    got = _samples(result.stdout)
    assert got[("aifinops_scan_scopes", (("scanner", "billing"), ("status", "failed")))] == 1
    assert got[("aifinops_scan_coverage_ratio", ())] == 0.5  # 1 ok of 2 tried


def test_hostile_labels_stay_valid_exposition():
    """Quotes, backslashes, newlines, ESC and NUL from tags: escaped or dropped, never a new line
    or a forged sample. 80 owners x $20.00 savings each."""
    report = hostile_report([*VALUES, 'a"b\\c\nd'])
    report.coverage.append(CoverageEntry('sc"anner\\', "x", "ok"))
    text = formatters()["openmetrics"]().render(report)
    got = _samples(text)
    owners = {
        labels[0][1]: v for (name, labels), v in got.items() if name == "aifinops_waste_by_owner_monthly_usd"
    }
    assert sum(owners.values()) == pytest.approx(20.0 * (len(VALUES) + 1))
    assert 'a"b\\c d' in owners  # the newline folded, the quote and backslash kept as data
    assert got[("aifinops_waste_monthly_usd", ())] == pytest.approx(20.0 * (len(VALUES) + 1))
    assert "\x1b" not in text and "\x00" not in text
