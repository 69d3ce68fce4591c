"""Kubernetes GPUs priced per physical GPU (MIG, time-slicing), dcgm-exporter's pod labels in
both scrape modes, malformed GPU quantities and coverage text, against the local Kubernetes and
Prometheus fakes through the real kubernetes client. Labels are those gpu-feature-discovery
documents (NVIDIA k8s-device-plugin, "Generated Labels")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.k8s import (
    EXPORTER_NAMESPACE,
    DcgmSeries,
    FakeCluster,
    FakeK8s,
    exporter_pod,
    node_json,
    pod_json,
    serve,
    write_kubeconfig,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.k8s.pricing import gpu_shape
from aifinops_cli.scanners.k8s.provider import K8sSettings
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAYS = lambda n: NOW - timedelta(days=n)  # noqa: E731
RATE = 1.5  # on-prem $ per physical GPU-hour (config)
# 8 x A100-40GB, each cut into 7 MIG 1g.5gb devices: 56 nvidia.com/gpu, gpu.count overridden to 56
MIG = {
    "nvidia.com/mig.strategy": "single",
    "nvidia.com/gpu.count": "56",
    "nvidia.com/gpu.product": "A100-SXM4-40GB-MIG-1g.5gb",
    "nvidia.com/gpu.slices.gi": "1",
    "nvidia.com/gpu.slices.ci": "1",
    "nvidia.com/gpu.memory": "4864",
}
# 2 x T4 time-sliced 4 ways: 8 nvidia.com/gpu, gpu.count stays 2
SLICED = {
    "nvidia.com/gpu.count": "2",
    "nvidia.com/gpu.replicas": "4",
    "nvidia.com/gpu.sharing-strategy": "time-slicing",
    "nvidia.com/gpu.product": "Tesla-T4-SHARED",
    "nvidia.com/mig.strategy": "none",
}
PLAIN = {"nvidia.com/gpu.count": "4", "nvidia.com/gpu.product": "NVIDIA-L40S", "nvidia.com/gpu.replicas": "1"}


def estate() -> FakeK8s:
    nodes = [
        node_json("mig-a100", gpus=56, labels=MIG, created=DAYS(100)),
        node_json("ts-t4", gpus=8, labels=SLICED, created=DAYS(100)),
        node_json("l40s-busy", gpus=4, labels=PLAIN, created=DAYS(100)),
        node_json("bad-gi", gpus=0, labels=PLAIN, created=DAYS(100)),
        node_json("bad-abc", gpus=0, labels=PLAIN, created=DAYS(100)),
    ]
    nodes[3]["status"]["allocatable"]["nvidia.com/gpu"] = "8Gi"
    nodes[4]["status"]["allocatable"]["nvidia.com/gpu"] = "abc"
    pods = [
        pod_json("ml", "mig-infer", "mig-a100", gpus=1, started=DAYS(5), owner=("ReplicaSet", "infer")),
        pod_json("ml", "ts-infer", "ts-t4", gpus=1, started=DAYS(5), owner=("ReplicaSet", "ts")),
        pod_json("ml", "train", "l40s-busy", gpus=3, started=DAYS(5), owner=("StatefulSet", "train")),
        pod_json("ml", "idle-serve", "l40s-busy", gpus=1, started=DAYS(5), owner=("ReplicaSet", "serve")),
        # the exporter DaemonSet's own pods (request no GPU)
        *[
            pod_json(EXPORTER_NAMESPACE, exporter_pod(n), n, started=DAYS(50))
            for n in ("mig-a100", "ts-t4", "l40s-busy")
        ],
    ]
    dcgm = [DcgmSeries("l40s-busy", g, 85.0, 99.0, "ml", "train", "main") for g in range(3)]
    dcgm += [
        DcgmSeries("l40s-busy", 3, 0.1, 0.5, "ml", "idle-serve", "main"),
        DcgmSeries("l40s-busy", 9, 50.0, 60.0, "ml", "gone-pod", "main"),
    ]  # ended in the window
    return FakeK8s(clusters={"lab": FakeCluster(nodes=nodes, pods=pods)}, dcgm=dcgm)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeK8s, str, Path]]:
    e = estate()
    with serve(e) as url:
        yield e, url, write_kubeconfig(tmp_path / "kubeconfig", url, ["lab"])


def scan(kubeconfig: Path, prometheus: str | None):
    options = ScanOptions(
        providers=["k8s"],
        lookback_days=7,
        settings={
            "k8s": K8sSettings(contexts=["lab"], prometheus_url=prometheus, kubeconfig=str(kubeconfig))
        },
    )
    config = Config(
        sections={"kubernetes": {"onprem_gpu_hourly_usd": RATE, "onprem_price_date": "2026-10-01"}}
    )
    return KubernetesGpuScanner(
        ScanContext(options=options, config=config, prices=load_catalog(), now=NOW)
    ).scan()


def test_mig_and_time_slicing_priced_per_physical_gpu(fake: tuple[FakeK8s, str, Path]) -> None:
    _, url, kubeconfig = fake
    result = scan(kubeconfig, f"{url}/prometheus")
    obs = {(o.kind, o.name): o for o in result.observations}
    mig = obs[("k8s.node", "mig-a100")]
    # 56 MIG devices of 1 slice, 7 per A100 -> 8 GPUs: 8 x 1.5 x 730 = 8760.0 (not 56 x ... = 61320)
    assert mig.metrics["gpu_physical"] == 8 and mig.metrics["gpu_allocatable"] == 56
    assert mig.monthly_cost_usd == pytest.approx(8 * 1.5 * 730) == pytest.approx(8760.0)
    # 55 of 56 devices unrequested: 8760 x 55 / 56 = 8603.571428...
    assert mig.metrics["idle_gpu_monthly_usd"] == pytest.approx(8760.0 * 55 / 56)
    assert mig.attributes["gpu_sharing"] == "mig-single"
    # one MIG device = 1/7 of a GPU: 1.5 x 730 / 7 = 156.428571
    assert obs[("k8s.pod", "mig-infer")].monthly_cost_usd == pytest.approx(1.5 * 730 / 7)
    assert obs[("k8s.pod", "mig-infer")].cost_lines[0].quantity == pytest.approx(730 / 7)
    ts = obs[("k8s.node", "ts-t4")]
    # 2 T4s shared 4 ways: 2 x 1.5 x 730 = 2190.0 (not 8 x ... = 8760); a replica is 1/4 GPU = 273.75
    assert ts.metrics["gpu_physical"] == 2 and ts.monthly_cost_usd == pytest.approx(2190.0)
    assert obs[("k8s.pod", "ts-infer")].monthly_cost_usd == pytest.approx(273.75)
    plain = obs[("k8s.node", "l40s-busy")]
    assert plain.monthly_cost_usd == pytest.approx(4 * 1.5 * 730)  # 4380.0, no sharing
    found = {(f.rule_id, f.observation.name): f for f in evaluate(load_rules(), result.observations)}
    assert found[("k8s-gpu-node-stranded", "mig-a100")].estimated_monthly_savings_usd == pytest.approx(
        round(8760.0 * 55 / 56, 2)
    )


def test_physical_count_read_from_gfd_labels() -> None:
    # gpu.count below the device count under MIG single is the physical count as given
    shape, problems = gpu_shape({**MIG, "nvidia.com/gpu.count": "8"}, 56)
    assert (shape.physical, problems) == (8, [])
    # 3g.20gb: 7 // 3 = 2 devices per GPU -> 16 devices on 8 GPUs; A30 has 4 slices: 1g -> 4 per GPU
    three = {**MIG, "nvidia.com/gpu.slices.gi": "3", "nvidia.com/gpu.count": "16"}
    assert gpu_shape(three, 16)[0].physical == 8
    assert (
        gpu_shape(
            {**MIG, "nvidia.com/gpu.product": "NVIDIA-A30-MIG-1g.6gb", "nvidia.com/gpu.count": "16"}, 16
        )[0].physical
        == 4
    )
    # GKE time-sharing and MIG partitions carry their own labels
    assert gpu_shape({"cloud.google.com/gke-max-shared-clients-per-gpu": "4"}, 8)[0].physical == 2
    assert gpu_shape({"cloud.google.com/gke-gpu-partition-size": "1g.5gb"}, 7)[0].physical == 1
    # MIG mixed: 4 of 8 GPUs partitioned (their devices are nvidia.com/mig-*), 4 left as nvidia.com/gpu
    mixed = gpu_shape({"nvidia.com/mig.strategy": "mixed", "nvidia.com/gpu.count": "8"}, 4)[0]
    assert (mixed.physical, mixed.devices_per_gpu) == (4, 1.0)
    shape, problems = gpu_shape({"nvidia.com/gpu.count": "eight"}, 8)
    assert shape.physical == 8
    assert problems == ['label nvidia.com/gpu.count="eight" is not a positive whole number']


def test_malformed_gpu_quantities_are_a_named_warning(fake: tuple[FakeK8s, str, Path]) -> None:
    _, url, kubeconfig = fake
    result = scan(kubeconfig, f"{url}/prometheus")
    cov = result.coverage[0]
    assert cov.status == "partial"
    assert 'node bad-gi: allocatable nvidia.com/gpu="8Gi" is not a whole number' in cov.message
    assert 'node bad-abc: allocatable nvidia.com/gpu="abc"' in cov.message
    assert not {"bad-gi", "bad-abc"} & {o.name for o in result.observations}


def test_dcgm_pod_labels_in_both_scrape_modes(fake: tuple[FakeK8s, str, Path]) -> None:
    estate, url, kubeconfig = fake
    for mode, form in (("honor", "namespace/pod"), ("exported", "exported_namespace/exported_pod")):
        estate.dcgm_labels = mode
        result = scan(kubeconfig, f"{url}/prometheus")
        found = {(f.rule_id, f.observation.name) for f in evaluate(load_rules(), result.observations)}
        assert ("k8s-pod-gpu-unused", "idle-serve") in found, mode
        pods = {o.name: o for o in result.observations if o.kind == "k8s.pod"}
        assert pods["idle-serve"].metrics["gpu_util_max_pct"] == 0.5
        assert pods["train"].metrics["gpu_util_avg_pct"] == 85.0
        # 4 series matched (3 train + 1 idle-serve); gone-pod ended in the window
        assert f"pods matched: 4 via {form}" in result.coverage[0].message
        assert "1 series name no pod running in this cluster now" in result.coverage[0].message
        assert "name none of the" not in result.coverage[0].message
    # labels renamed where no one reads them: said in coverage, and no pod is judged idle
    estate.dcgm_labels = "renamed"
    result = scan(kubeconfig, f"{url}/prometheus")
    message = result.coverage[0].message
    assert result.coverage[0].status == "partial"
    assert "DCGM series name none of the 4 running GPU pods" in message
    found = {(f.rule_id, f.observation.name) for f in evaluate(load_rules(), result.observations)}
    assert ("k8s-pod-gpu-unused", "idle-serve") not in found


def test_coverage_text_matches_the_flags(fake: tuple[FakeK8s, str, Path]) -> None:
    estate, url, kubeconfig = fake
    message = scan(kubeconfig, None).coverage[0].message
    assert "not available (no --prometheus-url, nor kubernetes.prometheus_urls" in message
    estate.prometheus_down = True
    message = scan(kubeconfig, f"{url}/prometheus").coverage[0].message
    assert "no --prometheus-url" not in message
    assert "GPU utilisation not read: Prometheus at" in message and "503" in message
