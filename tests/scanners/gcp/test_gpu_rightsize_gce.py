"""Compute Engine right-sizing from the Ops Agent's GPU memory and utilisation, against the local
server answering the real Compute and Monitoring REST shapes, through the real clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Confidence, Severity
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.gcp import FakeGcp, FakeProject, instance_json, series_json, serve
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.monitoring import CPU_METRIC, GPU_MEMORY_METRIC, GPU_METRIC
from aifinops_cli.scanners.gcp.provider import GcpSettings

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
END = NOW.replace(minute=0)
OLD = NOW - timedelta(days=60)
P = "ml-prod"
ZONE = "us-central1-a"
GIB = 1024**3
# bundled Cloud Billing catalog (2026-07-30), us-central1, $/h
A3_8G, G2_96 = 88.489999903, 8.003330296


def _estate() -> FakeGcp:
    project = FakeProject()
    project.instances[ZONE] = [
        instance_json(
            P,
            "llm-a3",
            ZONE,
            "a3-highgpu-8g",
            201,
            accelerators=[("nvidia-h100-80gb", 8)],
            created=OLD,
            started=OLD,
        ),
        # utilisation but no memory series: not judged for size
        instance_json(
            P,
            "vis-a2",
            ZONE,
            "a2-highgpu-1g",
            202,
            accelerators=[("nvidia-tesla-a100", 1)],
            created=OLD,
            started=OLD,
        ),
    ]
    series: dict[tuple[str, str], list[dict]] = {}

    def add(metric: str, aligner: str, doc: dict) -> None:
        series.setdefault((metric, aligner), []).append(doc)

    for iid, name, gpus in (("201", "llm-a3", 8), ("202", "vis-a2", 1)):
        res = {"instance_id": iid, "zone": ZONE, "project_id": P}
        add(
            CPU_METRIC,
            "ALIGN_MEAN",
            series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", res, [0.2] * 14, END),
        )
        add(
            CPU_METRIC,
            "ALIGN_MAX",
            series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", res, [0.4] * 14, END),
        )
        for g in range(gpus):
            ml = {"gpu_number": str(g), "model": "NVIDIA H100 80GB HBM3", "uuid": f"GPU-{iid}-{g}"}
            add(GPU_METRIC, "ALIGN_MEAN", series_json(GPU_METRIC, ml, "gce_instance", res, [4.0] * 14, END))
            # the busiest day peaked at 10%
            add(
                GPU_METRIC,
                "ALIGN_MAX",
                series_json(GPU_METRIC, ml, "gce_instance", res, [6.0] * 13 + [10.0], END),
            )
            if iid != "201":
                continue
            used = 20 * GIB if g < 2 else 0
            add(
                GPU_MEMORY_METRIC,
                "ALIGN_MAX",
                series_json(
                    GPU_MEMORY_METRIC,
                    {**ml, "memory_state": "used"},
                    "gce_instance",
                    res,
                    [used / 2] * 13 + [used],
                    END,
                    int_values=True,
                ),
            )
            # the "free" side of the same GPU is not memory used
            add(
                GPU_MEMORY_METRIC,
                "ALIGN_MAX",
                series_json(
                    GPU_MEMORY_METRIC,
                    {**ml, "memory_state": "free"},
                    "gce_instance",
                    res,
                    [80 * GIB] * 14,
                    END,
                    int_values=True,
                ),
            )
    project.series = series
    return FakeGcp(projects={P: project})


@pytest.fixture
def fake() -> Iterator[tuple[FakeGcp, str]]:
    estate = _estate()
    with serve(estate) as url:
        yield estate, url


def test_a3_whose_peaks_fit_eight_l4_moves_to_g2_standard_96(fake: tuple[FakeGcp, str]) -> None:
    estate, url = fake
    options = ScanOptions(
        providers=["gcp"], lookback_days=14, settings={"gcp": GcpSettings(projects=[P], endpoints={"": url})}
    )
    ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
    result = GcpComputeScanner(ctx).scan()
    obs = {o.name: o for o in result.observations}
    a3 = obs["llm-a3"]
    # 20 GiB used at peak on GPUs 0 and 1 (the "free" series ignored), 0 on six: 40 GB in all
    assert a3.metrics["gpu_mem_peak_gb"] == 40.0 and a3.metrics["gpu_mem_peak_per_gpu_gb"] == 20.0
    assert a3.metrics["gpu_mem_total_gb"] == 640.0  # 8 x H100 80 GB (gpu_models.yaml)
    assert a3.metrics["gpu_util_max_pct"] == 10.0
    # needs 20 x 1.2 = 24 GB a GPU, 48 GB, 8 x 989 x 0.10 x 1.2 = 949.44 TFLOPS: 8 x L4 = 968
    # (g2-standard-96) at 8.003330296 $/h; (88.489999903 - 8.003330296) x 730 = 58,755.27
    assert a3.attributes["rightsize_target"] == "g2-standard-96"
    assert a3.metrics["rightsize_monthly_savings_usd"] == pytest.approx((A3_8G - G2_96) * 730)
    assert obs["vis-a2"].attributes["rightsize_target"] == ""
    assert obs["vis-a2"].metrics["gpu_mem_total_gb"] == 40.0  # 1 x A100 40 GB, memory not published

    found = {(f.rule_id, f.observation.name): f for f in evaluate(load_rules(), result.observations)}
    rs = found[("gpu-rightsize", "llm-a3")]
    assert rs.severity == Severity.HIGH and rs.confidence == Confidence.MEDIUM
    assert rs.estimated_monthly_savings_usd == pytest.approx(58755.26881311)
    assert ("gpu-rightsize", "vis-a2") not in found
    # one Monitoring call per metric and aligner for the chunk of 2 instances: CPU x 2, GPU x 2, memory
    assert estate.count("/timeSeries") == 5
