"""Unpriced findings rank by severity first: an idle 8-GPU A3 in a region no catalog prices is
high by what it is, so it must reach the top of the list, the Markdown "Top 10" and the top of its
table, not sort last at $0. Against the local GCP fake through the real clients, with a price list
written here (us-central1 only) so every priority is known by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Severity
from aifinops_cli.core.pipeline import run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.report import to_dict
from aifinops_cli.core.rules import load_rules
from aifinops_cli.demo.fakes.gcp import FakeGcp, FakeProject, disk_json, instance_json, series_json, serve
from aifinops_cli.output import formatters
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.monitoring import CPU_METRIC
from aifinops_cli.scanners.gcp.provider import GcpSettings

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
END = NOW.replace(minute=0)
OLD = NOW - timedelta(days=60)
P = "ml-rank"
ASIA, US = "asia-southeast1-b", "us-central1-a"
PRICES = {
    "catalog": "test-gcp",
    "price_date": "2026-11-01",
    "source": "written in this test",
    "services": {
        "gcp.compute": {
            "unit": "hour",
            "prices": {"us-central1": {"n1-standard-8": 0.38, "a3-highgpu-8g": 88.49}},
        },
        "gcp.gpu": {"unit": "hour", "prices": {"us-central1": {"nvidia-tesla-t4": 0.35}}},
        "gcp.pd": {"unit": "GB-month", "prices": {"us-central1": {"pd-ssd": 0.17}}},
    },
}
T4S = 12  # more priced medium findings than the Markdown Top 10 holds

# by hand: a T4 box is (0.38 + 0.35) x 730 = 532.90 a month, medium severity (below $1,000),
# medium confidence (CPU evidence only): priority 532.90 x 1.0 x 0.75 = 399.675 -> 399.67
T4_SAVINGS = (0.38 + 0.35) * 730
T4_PRIORITY = 399.67
# the priced A3 in us-central1: 88.49 x 730 = 64,597.70, high, medium confidence:
# 64,597.70 x 1.5 x 0.75 = 72,672.4125 -> 72,672.41
A3_SAVINGS = 88.49 * 730
A3_PRIORITY = 72672.41


def _idle(iid: str, name: str, zone: str) -> list[dict]:
    labels = {"instance_id": iid, "zone": zone, "project_id": P}
    return [
        series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", labels, [v] * 14, END)
        for v in (0.01, 0.02)
    ]


def estate(with_priced_a3: bool) -> FakeGcp:
    proj = FakeProject()
    idle = [("101", "a3-asia", ASIA)]
    proj.instances[ASIA] = [
        instance_json(P, "a3-asia", ASIA, "a3-highgpu-8g", 101, created=OLD, started=OLD),
        instance_json(
            P,
            "a3-stopped",
            ASIA,
            "a3-highgpu-8g",
            102,
            status="TERMINATED",
            created=OLD,
            stopped=NOW - timedelta(days=30),
        ),
    ]
    proj.disks[ASIA] = [
        disk_json(P, "a3-stopped-data", ASIA, "pd-ssd", 3000, 201, users=["a3-stopped"], created=OLD)
    ]
    proj.instances[US] = []
    for n in range(T4S):
        proj.instances[US].append(
            instance_json(
                P,
                f"t4-{n:02d}",
                US,
                "n1-standard-8",
                300 + n,
                created=OLD,
                started=OLD,
                accelerators=[("nvidia-tesla-t4", 1)],
            )
        )
        idle.append((str(300 + n), f"t4-{n:02d}", US))
    if with_priced_a3:
        proj.instances[US].append(
            instance_json(P, "a3-us", US, "a3-highgpu-8g", 400, created=OLD, started=OLD)
        )
        idle.append(("400", "a3-us", US))
    pairs = [_idle(*i) for i in idle]
    proj.series[(CPU_METRIC, "ALIGN_MEAN")] = [mean for mean, _ in pairs]
    proj.series[(CPU_METRIC, "ALIGN_MAX")] = [mx for _, mx in pairs]
    return FakeGcp(projects={P: proj})


def scan(with_priced_a3: bool):
    prices = PriceCatalog()
    prices.add_catalog(PRICES, "test")
    with serve(estate(with_priced_a3)) as url:
        options = ScanOptions(
            providers=["gcp"],
            lookback_days=14,
            settings={"gcp": GcpSettings(projects=[P], endpoints={"": url})},
        )
        ctx = ScanContext(options=options, config=Config(), prices=prices, now=NOW)
        return run_scan(ctx, [GcpComputeScanner], load_rules()).report


@pytest.fixture(scope="module")
def report():
    return scan(with_priced_a3=False)


@pytest.fixture(scope="module")
def report_with_a3():
    return scan(with_priced_a3=True)


def test_unpriced_high_ranks_first_among_what_it_cannot_be_shown_smaller_than(report) -> None:
    order = [(f.observation.name, f.severity, f.priority) for f in report.findings]
    # the idle A3 (unpriced, high) takes the best priced priority at high or lower: the T4s'
    # 399.67; ties go to the unpriced one, so it is first, not last at $0 x weights = 0
    assert order[0] == ("a3-asia", Severity.HIGH, T4_PRIORITY)
    # the stopped A3's 3 TB disk (unpriced, medium): also 399.67, behind the high one
    assert order[1] == ("a3-stopped", Severity.MEDIUM, T4_PRIORITY)
    assert [name for name, _, _ in order[2:]] == [f"t4-{n:02d}" for n in range(T4S)]
    assert all(p == T4_PRIORITY for _, _, p in order[2:])
    a3 = report.findings[0]
    # no dollar invented: the amounts stay the known part ($0) and the total holds priced only
    assert a3.estimated_monthly_savings_usd == 0.0 and a3.savings_priority == 0.0
    assert "ranked by severity first (high)" in a3.evidence["priority_basis"]
    doc = to_dict(report)
    assert doc["summary"]["monthly_waste_usd"] == pytest.approx(round(T4S * T4_SAVINGS, 2))  # 6,394.80
    assert doc["findings"][0]["priority"] == T4_PRIORITY and doc["findings"][0]["priced"] is False


def test_priced_higher_severity_keeps_its_place_and_unpriced_sits_just_ahead(report_with_a3) -> None:
    order = [(f.observation.name, f.priority) for f in report_with_a3.findings]
    # the priced idle A3 (high) is at 72,672.41; the unpriced idle A3 (high) takes that priority
    # and sorts just ahead of it; the unpriced medium one cannot take a high's priority: it takes
    # the best priced medium-or-lower, 399.67, ahead of the T4s
    assert order[:3] == [("a3-asia", A3_PRIORITY), ("a3-us", A3_PRIORITY), ("a3-stopped", T4_PRIORITY)]
    priced = report_with_a3.findings[1]
    assert priced.estimated_monthly_savings_usd == pytest.approx(round(A3_SAVINGS, 2))
    assert priced.priority == pytest.approx(round(A3_SAVINGS * 1.5 * 0.75, 2))


def test_markdown_top_ten_and_table_show_the_unpriced_a3(report) -> None:
    md = formatters()["markdown"]().render(report)
    top = md.split("## Top 10 findings", 1)[1].split("## All findings", 1)[0]
    assert "### 1. " in top and "`101` (a3-asia)" in top.split("### 2. ")[0]
    assert "(a3-stopped)" in top.split("### 3. ")[0]
    assert "Unpriced findings rank by severity first" in md
    # the terminal table cuts each category at ROWS_PER_CATEGORY rows, sorted by savings: the
    # unpriced A3 ($0 known) takes the best priced savings of high-or-lower (532.90) and leads
    text = formatters()["table"]().render(report)
    rows = [line for line in text.splitlines() if "(a3-asia)" in line or "(t4-" in line]
    assert "(a3-asia)" in rows[0] and "unpriced" in rows[0]
    assert json.loads(formatters()["json"]().render(report))["findings"][0]["resource_name"] == "a3-asia"
