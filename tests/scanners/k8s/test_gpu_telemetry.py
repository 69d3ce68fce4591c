"""DCGM telemetry in the Kubernetes scanner: the engine-activity counter before GPU_UTIL, frame-
buffer memory, MIG devices priced as their share of the card, right-sizing of cloud nodes; a
Prometheus that answers JSON that is not an object. Against the local API server and Prometheus
fakes answering the real JSON shapes, through the real kubernetes client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Confidence, Severity
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.k8s import (
    DcgmSeries,
    FakeCluster,
    FakeK8s,
    node_json,
    pod_json,
    serve,
    write_kubeconfig,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.k8s.provider import K8sSettings
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAYS = lambda n: NOW - timedelta(days=n)  # noqa: E731
A100_40_MIB = 40960.0


def _estate() -> FakeK8s:
    p4d = {"node.kubernetes.io/instance-type": "p4d.24xlarge", "topology.kubernetes.io/region": "us-east-1"}
    g5 = {"node.kubernetes.io/instance-type": "g5.xlarge", "topology.kubernetes.io/region": "us-east-1"}
    mig = {
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
        "nvidia.com/mig.strategy": "mixed",
        "nvidia.com/gpu.count": "1",
        "aifinops.io/gpu-hourly-usd": "2.80",
    }
    mig_node = node_json("a100-mig", gpus=4, resource="nvidia.com/mig-1g.10gb", labels=mig, created=DAYS(90))
    mig_node["status"]["allocatable"]["nvidia.com/mig-3g.40gb"] = "1"
    # two A100s under `mixed`: one whole (nvidia.com/gpu), one cut into seven 1g slices
    two = node_json("a100-mixed2", gpus=1, labels={**mig, "nvidia.com/gpu.count": "2"}, created=DAYS(90))
    two["status"]["allocatable"]["nvidia.com/mig-1g.10gb"] = "7"
    cluster = FakeCluster(
        nodes=[
            node_json(
                "p4d-busy", gpus=8, labels=p4d, provider_id="aws:///us-east-1a/i-0p4d", created=DAYS(20)
            ),
            node_json("g5-ocr", gpus=1, labels=g5, provider_id="aws:///us-east-1a/i-0g5x", created=DAYS(20)),
            mig_node,
            two,
        ],
        pods=[
            pod_json("llm", "serve-llm", "p4d-busy", gpus=2, started=DAYS(10), owner=("ReplicaSet", "serve")),
            pod_json("docs", "ocr-0", "g5-ocr", gpus=1, started=DAYS(10), owner=("StatefulSet", "ocr")),
            pod_json(
                "search",
                "embed-0",
                "a100-mig",
                gpus=1,
                resource="nvidia.com/mig-1g.10gb",
                started=DAYS(5),
                owner=("ReplicaSet", "embed"),
            ),
            pod_json(
                "research",
                "train-small",
                "a100-mig",
                gpus=1,
                resource="nvidia.com/mig-3g.40gb",
                started=DAYS(5),
                owner=("ReplicaSet", "train-small"),
            ),
            pod_json(
                "research", "whole-0", "a100-mixed2", gpus=1, started=DAYS(5), owner=("ReplicaSet", "w")
            ),
        ],
    )
    used = 9 * 1024.0  # 9 GB on each of serve-llm's two GPUs
    dcgm = [
        # GPU_UTIL says 99% (one kernel trickling); the engine was active 12% of the time at most
        *[
            DcgmSeries(
                "p4d-busy",
                g,
                60.0,
                99.0,
                "llm",
                "serve-llm",
                "main",
                engine_avg=0.05,
                engine_max=0.12,
                fb_used_max=used,
                fb_free_min=A100_40_MIB - used,
                model="NVIDIA A100-SXM4-40GB",
            )
            for g in (0, 1)
        ],
        *[
            DcgmSeries(
                "p4d-busy",
                g,
                0.0,
                0.0,
                engine_avg=0.0,
                engine_max=0.0,
                fb_used_max=0.0,
                fb_free_min=A100_40_MIB,
                model="NVIDIA A100-SXM4-40GB",
            )
            for g in range(2, 8)
        ],
        # no profiling counters on this exporter: utilisation, and memory
        DcgmSeries(
            "g5-ocr",
            0,
            15.0,
            40.0,
            "docs",
            "ocr-0",
            "main",
            fb_used_max=6144.0,
            fb_free_min=16384.0,
            model="NVIDIA A10G",
        ),
        # MIG instances: no GPU_UTIL (dcgm-exporter does not publish it per instance), engine activity
        DcgmSeries(
            "a100-mig",
            0,
            0.0,
            0.0,
            "search",
            "embed-0",
            "main",
            engine_avg=0.3,
            engine_max=0.55,
            fb_used_max=4096.0,
            fb_free_min=5888.0,
            mig_profile="1g.10gb",
            mig_id="13",
        ),
        DcgmSeries(
            "a100-mig",
            0,
            0.0,
            0.0,
            "research",
            "train-small",
            "main",
            engine_avg=0.7,
            engine_max=0.9,
            fb_used_max=30000.0,
            fb_free_min=10000.0,
            mig_profile="3g.40gb",
            mig_id="2",
        ),
    ]
    return FakeK8s(clusters={"ml": cluster}, dcgm=dcgm)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeK8s, str, Path]]:
    estate = _estate()
    with serve(estate) as url:
        yield estate, url, write_kubeconfig(tmp_path / "kubeconfig", url, ["ml"])


def _scan(kubeconfig: Path, prometheus: str):
    options = ScanOptions(
        providers=["k8s"],
        lookback_days=14,
        settings={"k8s": K8sSettings(contexts=["ml"], prometheus_url=prometheus, kubeconfig=str(kubeconfig))},
    )
    ctx = ScanContext(options=options, config=Config(sections={}), prices=load_catalog(), now=NOW)
    return KubernetesGpuScanner(ctx).scan()


def test_engine_activity_memory_mig_and_rightsize(fake: tuple[FakeK8s, str, Path]) -> None:
    estate, url, kubeconfig = fake
    result = _scan(kubeconfig, f"{url}/prometheus")
    obs = {(o.kind, o.name): o for o in result.observations}

    p4d = obs[("k8s.node", "p4d-busy")]
    # the engine counter wins over GPU_UTIL: 0.12 x 100 = 12%, not 99%
    assert p4d.metrics["gpu_util_max_pct"] == 12.0
    assert p4d.attributes["gpu_activity_metric"] == "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
    assert "DCGM_FI_PROF_GR_ENGINE_ACTIVE" in p4d.evidence[0]
    # memory: 9216 MiB / 1024 = 9 GB on two GPUs, nothing on six: 18 GB in all, 9 on the busiest;
    # the card's memory is max(used) + min(free) = 40960 MiB = 40 GB x 8 = 320 GB
    assert p4d.metrics["gpu_mem_peak_gb"] == 18.0 and p4d.metrics["gpu_mem_peak_per_gpu_gb"] == 9.0
    assert p4d.metrics["gpu_mem_total_gb"] == 320.0
    # needs 9 x 1.2 = 10.8 GB a GPU, 18 x 1.2 = 21.6 GB, 8 x 312 x 0.12 x 1.2 = 359.42 TFLOPS:
    # g6.12xlarge (4 x L4: 96 GB, 484 TFLOPS) at 4.6016 $/h; 21.957642 - 4.6016 = 17.356042 x 730
    assert p4d.attributes["rightsize_target"] == "g6.12xlarge"
    assert p4d.metrics["rightsize_target_hourly_usd"] == 4.6016
    assert p4d.metrics["rightsize_monthly_savings_usd"] == pytest.approx(17.356042 * 730)  # 12,669.91

    ocr = obs[("k8s.node", "g5-ocr")]
    assert (
        ocr.attributes["gpu_activity_metric"] == "DCGM_FI_DEV_GPU_UTIL"
        and ocr.metrics["gpu_util_max_pct"] == 40.0
    )
    # 6144 MiB = 6 GB; 70 x 0.40 x 1.2 = 33.6 TFLOPS and 7.2 GB: g4dn.xlarge (T4, 16 GB, 65) at 0.526
    # saving (1.006 - 0.526) x 730 = 350.40
    assert ocr.attributes["rightsize_target"] == "g4dn.xlarge"
    assert ocr.metrics["rightsize_monthly_savings_usd"] == pytest.approx(350.4)

    # MIG (mixed strategy): a 1g slice is 1/7 of the card, a 3g slice 3/7, whatever else is cut
    embed = obs[("k8s.pod", "embed-0")]
    assert embed.monthly_cost_usd == pytest.approx(2.80 / 7 * 730)  # 292.00
    assert embed.metrics["gpu_share"] == pytest.approx(1 / 7, abs=1e-6)
    assert embed.metrics["gpu_util_max_pct"] == 55.0  # engine 0.55; GPU_UTIL is not published for MIG
    assert embed.attributes["gpu_activity_metric"] == "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
    assert embed.metrics["gpu_mem_peak_gb"] == 4.0  # 4096 MiB
    train = obs[("k8s.pod", "train-small")]
    assert train.monthly_cost_usd == pytest.approx(2.80 * 3 / 7 * 730)  # 876.00
    mig_node = obs[("k8s.node", "a100-mig")]
    assert mig_node.monthly_cost_usd == pytest.approx(2.80 * 730)  # one physical card: 2,044.00
    assert mig_node.attributes["rightsize_target"] == ""  # on-prem, and shared: not judged
    # held: 1/7 + 3/7 of the card; the rest nobody holds: 2,044.00 x 3/7 = 876.00
    assert mig_node.metrics["idle_gpu_monthly_usd"] == pytest.approx(2.80 * 730 * 3 / 7)
    # a whole GPU beside MIG devices is one GPU: 2.80 x 730 = 2,044.00 (not 1/8 of two cards)
    assert obs[("k8s.pod", "whole-0")].monthly_cost_usd == pytest.approx(2.80 * 730)
    two = obs[("k8s.node", "a100-mixed2")]
    # 2 x 2.80 x 730 = 4,088.00; the whole GPU held, the sliced one not: 4,088.00 x 1/2 = 2,044.00
    assert two.monthly_cost_usd == pytest.approx(4088.0)
    assert two.metrics["idle_gpu_monthly_usd"] == pytest.approx(2044.0)

    cov = {c.scope: c for c in result.coverage}["context ml"]
    assert "2 MIG instances" in cov.message and "with DCGM_FI_PROF_GR_ENGINE_ACTIVE" in cov.message

    found = {(f.rule_id, f.observation.name): f for f in evaluate(load_rules(), result.observations)}
    big = found[("gpu-rightsize", "p4d-busy")]
    assert big.severity == Severity.HIGH and big.confidence == Confidence.HIGH  # engine counter
    assert big.estimated_monthly_savings_usd == pytest.approx(12669.91066)
    assert big.category == "rightsizing"
    small = found[("gpu-rightsize", "g5-ocr")]
    assert small.severity == Severity.LOW and small.confidence == Confidence.MEDIUM  # GPU_UTIL only
    assert small.estimated_monthly_savings_usd == pytest.approx(350.4)
    assert ("gpu-rightsize", "a100-mig") not in found
    assert estate.count("/prometheus/api/v1/query") == 1  # every counter in one query


@pytest.mark.parametrize("body", [[1, 2], "ok", {"status": "success", "data": ["x"]}])
def test_prometheus_json_that_is_not_an_answer_is_reported(fake: tuple[FakeK8s, str, Path], body) -> None:
    estate, url, kubeconfig = fake
    estate.prometheus_body = body
    result = _scan(kubeconfig, f"{url}/prometheus")
    cov = {c.scope: c for c in result.coverage}["context ml"]
    assert cov.status == "partial"
    assert "GPU utilisation not read" in cov.message
    assert "not an object" in cov.message or "without a result vector" in cov.message
    # the cluster is still judged from the API server's snapshot
    assert {o.name for o in result.observations if o.kind == "k8s.node"} == {
        "p4d-busy",
        "g5-ocr",
        "a100-mig",
        "a100-mixed2",
    }
