"""Unpriced never looks cheap: a finding whose price no catalog knows keeps its severity from
what it is, is not dropped by a dollar threshold, shows "unpriced" instead of "$0" in every
format, and the headline says how many such findings the total leaves out. Against the local
GCP and Kubernetes fakes, through the real clients, with a small price list written here so the
amounts are known by hand whatever the bundled catalogs hold."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Observation, ScanResult, Severity
from aifinops_cli.core.pipeline import mark_unpriced, run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.report import to_dict
from aifinops_cli.core.rules import evaluate, load_rules, parse_rules_text
from aifinops_cli.demo.fakes import k8s as k8s_fake
from aifinops_cli.demo.fakes.gcp import FakeGcp, FakeProject, disk_json, instance_json, series_json, serve
from aifinops_cli.output import formatters
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.monitoring import CPU_METRIC
from aifinops_cli.scanners.gcp.provider import GcpSettings
from aifinops_cli.scanners.k8s.provider import K8sSettings
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
END = NOW.replace(minute=0)
OLD = NOW - timedelta(days=60)
P = "ml-asia"
# prices for us-central1 only: everything in asia-southeast1 is unpriced
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


def catalog() -> PriceCatalog:
    prices = PriceCatalog()
    prices.add_catalog(PRICES, "test")
    return prices


def _idle_cpu(iid: str, name: str, zone: str) -> list[dict]:
    labels = {"instance_id": iid, "zone": zone, "project_id": P}
    return [
        series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", labels, [v] * 14, END)
        for v in (0.01, 0.02)
    ]  # daily mean 1%, daily max 2% (fractions, as the API gives)


def gcp_estate() -> FakeGcp:
    a, b = "asia-southeast1-b", "us-central1-a"
    proj = FakeProject()
    proj.instances[a] = [
        instance_json(P, "a3-idle", a, "a3-highgpu-8g", 101, created=OLD, started=OLD),
        instance_json(
            P,
            "a3-stopped",
            a,
            "a3-highgpu-8g",
            102,
            status="TERMINATED",
            created=OLD,
            stopped=NOW - timedelta(days=30),
        ),
    ]
    proj.instances[b] = [
        instance_json(
            P,
            "t4-idle",
            b,
            "n1-standard-8",
            103,
            created=OLD,
            started=OLD,
            accelerators=[("nvidia-tesla-t4", 1)],
        )
    ]
    proj.disks[a] = [
        # the stopped A3's 3 TB pd-ssd dataset disk: $561 a month at 0.187, but no price here
        disk_json(P, "a3-stopped-data", a, "pd-ssd", 3000, 201, users=["a3-stopped"], created=OLD),
        disk_json(P, "orphan-ssd", a, "pd-ssd", 2000, 202, created=OLD),
    ]
    proj.disks[b] = [disk_json(P, "orphan-priced", b, "pd-ssd", 50, 203, created=OLD)]
    means, maxes = [], []
    for iid, name, zone in (("101", "a3-idle", a), ("103", "t4-idle", b)):
        mean, mx = _idle_cpu(iid, name, zone)
        means.append(mean)
        maxes.append(mx)
    proj.series[(CPU_METRIC, "ALIGN_MEAN")] = means
    proj.series[(CPU_METRIC, "ALIGN_MAX")] = maxes
    return FakeGcp(projects={P: proj})


@pytest.fixture(scope="module")
def gcp_report():
    with serve(gcp_estate()) as url:
        options = ScanOptions(
            providers=["gcp"],
            lookback_days=14,
            settings={"gcp": GcpSettings(projects=[P], endpoints={"": url})},
        )
        ctx = ScanContext(options=options, config=Config(), prices=catalog(), now=NOW)
        yield run_scan(ctx, [GcpComputeScanner], load_rules()).report


def test_unpriced_findings_keep_severity_and_are_not_dropped(gcp_report) -> None:
    found = {(f.rule_id, f.observation.name): f for f in gcp_report.findings}
    assert set(found) == {
        ("gcp-compute-idle-gpu", "a3-idle"),
        ("gcp-compute-idle-gpu", "t4-idle"),
        ("gcp-compute-stopped-gpu-storage", "a3-stopped"),
        ("gcp-disk-unattached", "orphan-ssd"),
        ("gcp-disk-unattached", "orphan-priced"),
    }
    a3 = found[("gcp-compute-idle-gpu", "a3-idle")]
    # no asia-southeast1 price: $0 known, but an idle 8-GPU A3 is high whatever its region
    assert a3.severity == Severity.HIGH and a3.estimated_monthly_savings_usd == 0.0
    assert a3.unpriced == ("gcp.compute:a3-highgpu-8g:asia-southeast1",)
    stopped = found[("gcp-compute-stopped-gpu-storage", "a3-stopped")]
    # the rule needs $1 of disk cost; unknown is not $0, so it is found, medium for 3 TB
    assert stopped.severity == Severity.MEDIUM and stopped.unpriced == ("gcp.pd:pd-ssd:asia-southeast1",)
    assert stopped.evidence["unpriced"] == ["gcp.pd:pd-ssd:asia-southeast1"]
    assert found[("gcp-disk-unattached", "orphan-ssd")].severity == Severity.HIGH  # 2000 GB
    t4 = found[("gcp-compute-idle-gpu", "t4-idle")]
    # priced: (n1-standard-8 0.38 + T4 0.35) x 730 = 532.90 -> medium (below 1000)
    assert t4.estimated_monthly_savings_usd == pytest.approx(532.90) and not t4.unpriced
    assert t4.severity == Severity.MEDIUM
    # 50 GB pd-ssd x 0.17 = 8.50 -> low (below 10)
    assert found[("gcp-disk-unattached", "orphan-priced")].estimated_monthly_savings_usd == 8.5


def test_headline_and_json_say_what_the_total_leaves_out(gcp_report) -> None:
    doc = to_dict(gcp_report)
    s = doc["summary"]
    assert doc["schema_version"] == "1.4.0"  # 1.4: economics (issue 16)
    assert s["monthly_waste_usd"] == pytest.approx(532.90 + 8.50)  # priced findings only
    assert s["unpriced_findings"] == 3
    assert s["unpriced_by_rule"] == {
        "gcp-compute-idle-gpu": 1,
        "gcp-compute-stopped-gpu-storage": 1,
        "gcp-disk-unattached": 1,
    }
    by_name = {f["resource_name"]: f for f in doc["findings"]}
    assert by_name["a3-idle"]["priced"] is False and by_name["t4-idle"]["priced"] is True
    assert by_name["orphan-ssd"]["unpriced_skus"] == ["gcp.pd:pd-ssd:asia-southeast1"]
    schema = json.loads(
        (resources.files("aifinops_cli.output") / "schema" / "report.schema.json").read_text()
    )
    jsonschema.validate(json.loads(json.dumps(doc, default=str)), schema)


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "csv", "json"])
def test_every_format_says_unpriced_not_zero(gcp_report, fmt: str) -> None:
    text = formatters()[fmt]().render(gcp_report)
    headline = (
        "3 finding(s) have no price for some of what they flag and are not (fully) in the "
        "total: gcp-compute-idle-gpu x1, gcp-compute-stopped-gpu-storage x1, "
        "gcp-disk-unattached x1"
    )
    if fmt == "csv":
        rows = {r["resource_name"]: r for r in csv.DictReader(io.StringIO(text))}
        assert rows["a3-idle"]["priced"] == "False" and rows["t4-idle"]["priced"] == "True"
        return
    if fmt == "json":
        assert json.loads(text)["summary"]["unpriced_findings"] == 3
        return
    assert headline in " ".join(text.replace("│", " ").split())
    if fmt == "markdown":
        row = next(line for line in text.splitlines() if line.startswith("| ") and "| 101 |" in line)
        assert "unpriced" in row and "$0.00" not in row
    if fmt == "table":
        row = next(line for line in text.splitlines() if "101 (a3-idle)" in line)
        assert "unpriced" in row and "$0.00" not in row
    if fmt == "html":
        assert "<td" in text and "$0.00" not in text.split('id="unpriced"')[1]


RULE = """
rules:
  - id: t-cost
    title: t
    category: zombie-infrastructure
    resource: [t.kind]
    params: {min_usd: 1.0}
    severity:
      default: medium
      cases:
        - when: {metric: monthly_cost_usd, gte: 1000}
          level: high
        - when: {metric: monthly_cost_usd, lt: 50}
          level: low
      unpriced:
        default: medium
        cases:
          - when: {metric: gpu_count, gte: 8}
            level: critical
    when:
      all:
        - {metric: monthly_cost_usd, gte: "${min_usd}"}
    savings: {metric: monthly_cost_usd}
    recommendation: r
"""


def _obs(cost: float, unpriced: tuple[str, ...] = (), gpus: float = 1.0) -> Observation:
    from aifinops_cli.core.models import CostLine

    line = CostLine("x", cost, "month", 1.0, "test", "2026-11-01")
    return Observation(
        provider="gcp",
        kind="t.kind",
        id=f"i{cost}{gpus}",
        metrics={"gpu_count": gpus},
        cost_lines=(line,) if cost else (),
        unpriced=unpriced,
    )


def test_dollar_thresholds_on_a_lower_bound() -> None:
    rules = parse_rules_text(RULE, "t.yaml")
    sev = lambda o: evaluate(rules, [o])[0].severity  # noqa: E731
    assert evaluate(rules, [_obs(0.0)]) == []  # priced at $0: dropped by the $1 threshold
    # unpriced, $0 known: kept; neither dollar case can be decided -> the unpriced block
    assert sev(_obs(0.0, ("sku",))) == Severity.MEDIUM
    assert sev(_obs(0.0, ("sku",), gpus=8)) == Severity.CRITICAL
    # $1,500 known of an unknown total: it is at least $1,000, so high stands
    assert sev(_obs(1500.0, ("sku",))) == Severity.HIGH
    # $20 known: "below $50" cannot be claimed for a partly unknown price (priced: low)
    assert sev(_obs(20.0)) == Severity.LOW
    assert sev(_obs(20.0, ("sku",))) == Severity.MEDIUM


def test_runner_marks_observations_a_scanner_listed_as_unpriced() -> None:
    obs = [
        Observation(provider="aws", kind="aws.ebs.volume", id="vol-1"),
        Observation(provider="aws", kind="aws.ebs.volume", id="vol-2"),
        Observation(provider="llm", kind="llm.session", id="vol-1"),
    ]
    result = ScanResult(
        "aws.ebs",
        obs,
        unpriced=[{"scanner": "aws.ebs", "resource_id": "vol-1", "sku": "aws.ebs:io2:ap-southeast-7"}],
    )
    marked = {(o.provider, o.id): o.unpriced for o in mark_unpriced(result)}
    assert marked == {
        ("aws", "vol-1"): ("aws.ebs:io2:ap-southeast-7",),
        ("aws", "vol-2"): (),
        ("llm", "vol-1"): (),
    }


def test_unpriced_kubernetes_node_is_high_by_its_gpus(tmp_path: Path) -> None:
    created = NOW - timedelta(days=30)
    h100 = {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.count": "8"}
    t4 = {"nvidia.com/gpu.product": "Tesla-T4", "nvidia.com/gpu.count": "1"}
    cluster = k8s_fake.FakeCluster(
        nodes=[
            k8s_fake.node_json("dgx-h100", gpus=8, labels=h100, created=created),
            k8s_fake.node_json("t4-box", gpus=1, labels=t4, created=created),
        ]
    )
    with k8s_fake.serve(k8s_fake.FakeK8s(clusters={"lab": cluster})) as url:
        kubeconfig = k8s_fake.write_kubeconfig(tmp_path / "kubeconfig", url, ["lab"])
        options = ScanOptions(
            providers=["k8s"],
            lookback_days=7,
            settings={"k8s": K8sSettings(contexts=["lab"], kubeconfig=str(kubeconfig))},
        )
        # no on-prem rate configured: neither node can be priced
        ctx = ScanContext(options=options, config=Config(), prices=catalog(), now=NOW)
        report = run_scan(ctx, [KubernetesGpuScanner], load_rules()).report
    found = {f.observation.name: f for f in report.findings}
    assert found["dgx-h100"].severity == Severity.HIGH and found["t4-box"].severity == Severity.MEDIUM
    assert found["dgx-h100"].estimated_monthly_savings_usd == 0.0
    assert found["dgx-h100"].unpriced == (
        "kubernetes:onprem_gpu_hourly_usd (set it in the config's kubernetes section)",
    )
    assert to_dict(report)["summary"]["unpriced_findings"] == 2
