"""Kubernetes GPU scanner against a local API server and Prometheus answering the real JSON,
through the real kubernetes client and a kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Confidence
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.k8s import (
    DcgmSeries,
    FakeCluster,
    FakeK8s,
    job_json,
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
HOURS = lambda n: NOW - timedelta(hours=n)  # noqa: E731
AWS = {
    "node.kubernetes.io/instance-type": "g5.12xlarge",
    "topology.kubernetes.io/region": "us-east-1",
    "eks.amazonaws.com/nodegroup": "gpu-a10g",
}
GKE = {
    "node.kubernetes.io/instance-type": "n1-standard-8",
    "topology.kubernetes.io/region": "us-central1",
    "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
    "cloud.google.com/gke-nodepool": "t4",
}
A100 = {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB", "pool": "lab"}
SETTINGS = {
    "onprem_gpu_hourly_usd": 1.5,
    "onprem_price_date": "2026-10-01",
    "gpu_hourly_usd_by_label": [
        {"label": "nvidia.com/gpu.product", "value": "NVIDIA-A100-SXM4-80GB", "gpu_hourly_usd": 2.10}
    ],
}


def build_estate() -> FakeK8s:
    prod = FakeCluster(
        nodes=[
            node_json(
                "aws-g5-idle", gpus=4, labels=AWS, provider_id="aws:///us-east-1a/i-0aaa", created=DAYS(10)
            ),
            node_json(
                "aws-g5-busy", gpus=4, labels=AWS, provider_id="aws:///us-east-1a/i-0bbb", created=DAYS(30)
            ),
            node_json(
                "gke-t4", gpus=1, labels=GKE, provider_id="gce://proj/us-central1-a/gke-t4", created=DAYS(30)
            ),
            node_json("lab-a100-0", gpus=8, labels=A100, created=DAYS(300)),
            node_json("lab-mi300", gpus=8, resource="amd.com/gpu", created=DAYS(300)),
            node_json("cpu-1", created=DAYS(30)),
        ],
        pods=[
            pod_json("ml", "train-0", "aws-g5-busy", gpus=2, started=DAYS(3), owner=("StatefulSet", "train")),
            pod_json(
                "ml",
                "serve-idle",
                "aws-g5-busy",
                gpus=1,
                started=DAYS(5),
                owner=("ReplicaSet", "serve-7d9"),
                labels={"team": "search"},
            ),
            pod_json(
                "alice",
                "jupyter-alice-0",
                "gke-t4",
                gpus=1,
                started=DAYS(9),
                labels={"notebook-name": "jupyter-alice"},
                owner=("StatefulSet", "jupyter-alice"),
                image="kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0",
                annotations={
                    "notebooks.kubeflow.org/last-activity": HOURS(72).strftime("%Y-%m-%dT%H:%M:%SZ")
                },
            ),
            pod_json(
                "data",
                "etl-x7k2p",
                "lab-a100-0",
                gpus=2,
                started=DAYS(1),
                owner=("Job", "etl"),
                terminated_at=HOURS(6),
                sidecar=True,
            ),
            pod_json(
                "data",
                "etl-old-aaaaa",
                "lab-a100-0",
                gpus=2,
                started=DAYS(3),
                owner=("Job", "etl-old"),
                phase="Succeeded",
                terminated_at=DAYS(2),
            ),
            pod_json("ml", "waiting", "", gpus=1, phase="Pending", started=HOURS(1)),
            pod_json("web", "api-0", "cpu-1", started=DAYS(3)),
        ],
        jobs=[
            job_json("data", "etl", completed=HOURS(5), started=DAYS(1)),
            job_json("data", "etl-old", completed=DAYS(2), started=DAYS(3)),
        ],
    )
    dcgm = [
        *[DcgmSeries("aws-g5-idle", g, 0.0, 0.0) for g in range(4)],
        DcgmSeries("aws-g5-busy", 0, 80.0, 95.0, "ml", "train-0", "main"),
        DcgmSeries("aws-g5-busy", 1, 70.0, 92.0, "ml", "train-0", "main"),
        DcgmSeries("aws-g5-busy", 2, 0.2, 1.0, "ml", "serve-idle", "main"),
        DcgmSeries("aws-g5-busy", 3, 0.0, 0.0),
    ]
    return FakeK8s(clusters={"prod": prod, "locked": FakeCluster(denied=True)}, dcgm=dcgm)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeK8s, str, Path]]:
    estate = build_estate()
    with serve(estate) as url:
        yield estate, url, write_kubeconfig(tmp_path / "kubeconfig", url, ["prod", "locked"])


def _context(kubeconfig: Path, contexts: list[str], prometheus: str | None) -> ScanContext:
    options = ScanOptions(
        providers=["k8s"],
        lookback_days=14,
        settings={
            "k8s": K8sSettings(contexts=contexts, prometheus_url=prometheus, kubeconfig=str(kubeconfig))
        },
    )
    config = Config(sections={"kubernetes": SETTINGS})
    return ScanContext(options=options, config=config, prices=load_catalog(), now=NOW)


def _findings(result) -> dict[tuple[str, str], object]:
    return {(f.rule_id, f.observation.name): f for f in evaluate(load_rules(), result.observations)}


def test_gpu_nodes_pods_and_costs(fake: tuple[FakeK8s, str, Path]) -> None:
    estate, url, kubeconfig = fake
    result = KubernetesGpuScanner(_context(kubeconfig, ["prod", "locked"], f"{url}/prometheus")).scan()
    obs = {(o.kind, o.name): o for o in result.observations}
    assert {n for k, n in obs if k == "k8s.node"} == {
        "aws-g5-idle",
        "aws-g5-busy",
        "gke-t4",
        "lab-a100-0",
        "lab-mi300",
    }
    # only pods holding GPUs on a node; the Succeeded one is filtered server-side, Pending holds none
    assert {n for k, n in obs if k == "k8s.pod"} == {"train-0", "serve-idle", "jupyter-alice-0", "etl-x7k2p"}

    idle = obs[("k8s.node", "aws-g5-idle")]
    # g5.12xlarge us-east-1 5.672/h x 730 h = 4140.56; all 4 GPUs idle -> 4140.56 of waste
    assert idle.monthly_cost_usd == pytest.approx(4140.56)
    assert idle.metrics["idle_gpu_monthly_usd"] == pytest.approx(4140.56)
    assert idle.metrics["gpu_util_max_pct"] == 0.0
    busy = obs[("k8s.node", "aws-g5-busy")]
    assert busy.metrics["gpu_requested"] == 3 and busy.metrics["gpu_util_max_pct"] == 95.0
    serve_idle = obs[("k8s.pod", "serve-idle")]
    # 1 GPU: 5.672 / 4 GPUs = 1.418 per GPU-hour x 730 = 1035.14
    assert serve_idle.monthly_cost_usd == pytest.approx(1035.14)
    assert serve_idle.metrics["gpu_util_max_pct"] == 1.0 and serve_idle.owner == "search"
    nb = obs[("k8s.pod", "jupyter-alice-0")]
    # n1-standard-8 0.379998 + 1 x T4 0.35 = 0.729998/h for the node's one GPU x 730 = 532.89854
    assert nb.monthly_cost_usd == pytest.approx(532.89854)
    assert nb.metrics["last_activity_hours"] == 72.0 and nb.attributes["notebook"] is True
    etl = obs[("k8s.pod", "etl-x7k2p")]
    # on-prem A100 by label: 2.10 per GPU-hour x 2 GPUs x 730 = 3066.0
    assert etl.monthly_cost_usd == pytest.approx(3066.0)
    assert etl.metrics["work_ended_hours"] == 6.0  # main container exited 6 h ago, Job done 5 h ago
    lab = obs[("k8s.node", "lab-a100-0")]
    # 8 x 2.10 = 16.8/h x 730 = 12264.0 a month; 6 of 8 GPUs unrequested -> 9198.0
    assert lab.monthly_cost_usd == pytest.approx(12264.0)
    assert lab.metrics["idle_gpu_monthly_usd"] == pytest.approx(9198.0)
    mi300 = obs[("k8s.node", "lab-mi300")]
    # on-prem default 1.5 per GPU-hour x 8 x 730 = 8760.0
    assert mi300.monthly_cost_usd == pytest.approx(8760.0)
    assert mi300.attributes["accelerator_resource"] == "amd.com/gpu"
    assert mi300.cost_lines[0].source == "config:kubernetes"

    found = _findings(result)
    assert set(found) == {
        ("k8s-gpu-node-unrequested", "aws-g5-idle"),
        ("k8s-gpu-node-unrequested", "lab-mi300"),
        ("k8s-gpu-node-stranded", "lab-a100-0"),
        ("k8s-pod-gpu-unused", "serve-idle"),
        ("k8s-notebook-idle-gpu", "jupyter-alice-0"),
        ("k8s-finished-job-holding-gpu", "etl-x7k2p"),
    }
    assert found[("k8s-gpu-node-unrequested", "aws-g5-idle")].confidence == Confidence.HIGH  # DCGM
    assert found[("k8s-gpu-node-unrequested", "lab-mi300")].confidence == Confidence.MEDIUM  # snapshot
    assert found[("k8s-notebook-idle-gpu", "jupyter-alice-0")].confidence == Confidence.MEDIUM
    assert found[("k8s-finished-job-holding-gpu", "etl-x7k2p")].estimated_monthly_savings_usd == 3066.0
    assert found[("k8s-gpu-node-stranded", "lab-a100-0")].estimated_monthly_savings_usd == 9198.0

    cov = {c.scope: c for c in result.coverage}
    assert cov["context prod"].status == "ok"
    assert cov["context locked"].status == "failed"
    assert "403" in cov["context locked"].message and "k8s-clusterrole" in cov["context locked"].message
    # list calls only: nodes, pods, jobs for prod; the refused context stops at nodes; one query
    assert all(m == "GET" for m, p, _ in estate.calls if not p.startswith("/prometheus"))
    assert estate.count("/clusters/prod/") == 3 and estate.count("/clusters/locked/") == 1
    assert estate.count("/prometheus/api/v1/query") == 1


def test_without_prometheus_and_unreachable_prometheus(fake: tuple[FakeK8s, str, Path]) -> None:
    estate, url, kubeconfig = fake
    result = KubernetesGpuScanner(_context(kubeconfig, ["prod"], None)).scan()
    found = _findings(result)
    assert ("k8s-pod-gpu-unused", "serve-idle") not in found  # needs DCGM
    assert found[("k8s-gpu-node-unrequested", "aws-g5-idle")].confidence == Confidence.MEDIUM
    assert result.coverage[0].status == "ok"

    estate.prometheus_down = True
    result = KubernetesGpuScanner(_context(kubeconfig, ["prod"], f"{url}/prometheus")).scan()
    assert result.coverage[0].status == "partial"
    assert "GPU utilisation not read" in result.coverage[0].message
    assert ("k8s-gpu-node-unrequested", "aws-g5-idle") in _findings(result)


def test_current_context_and_unknown_context(fake: tuple[FakeK8s, str, Path]) -> None:
    _, _, kubeconfig = fake
    result = KubernetesGpuScanner(_context(kubeconfig, [], None)).scan()
    assert [c.scope for c in result.coverage] == ["context prod"]
    result = KubernetesGpuScanner(_context(kubeconfig, ["nope", "prod"], None)).scan()
    cov = {c.scope: c for c in result.coverage}
    assert cov["context nope"].status == "failed" and "kubeconfig" in cov["context nope"].message
    assert cov["context prod"].status == "ok"


def test_bad_kubernetes_settings_are_one_clear_error(fake: tuple[FakeK8s, str, Path]) -> None:
    from aifinops_cli.core.plugin import ScannerError

    _, _, kubeconfig = fake
    ctx = _context(kubeconfig, ["prod"], None)
    ctx.config.sections["kubernetes"] = {"onprem_gpu_hourly": 1.5}
    with pytest.raises(ScannerError, match="unknown setting"):
        KubernetesGpuScanner(ctx).scan()
    ctx.config.sections["kubernetes"] = {"onprem_gpu_hourly_usd": "cheap"}
    with pytest.raises(ScannerError, match="expected int or float"):
        KubernetesGpuScanner(ctx).scan()
