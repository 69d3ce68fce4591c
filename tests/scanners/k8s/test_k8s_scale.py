"""A 500-node, 10,000-pod cluster is scanned with a bounded number of list calls: one per 500
objects of each kind listed, never one per node or pod."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.demo.fakes.k8s import FakeK8s, big_cluster, serve, write_kubeconfig
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.k8s.cluster import PAGE_LIMIT
from aifinops_cli.scanners.k8s.provider import K8sSettings
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_big_cluster_bounded_list_calls(tmp_path: Path) -> None:
    cluster, dcgm = big_cluster(NOW, nodes=500, pods=10_000)
    fake = FakeK8s(clusters={"big": cluster}, dcgm=dcgm)
    with serve(fake) as url:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, ["big"])
        options = ScanOptions(
            providers=["k8s"],
            settings={
                "k8s": K8sSettings(
                    contexts=["big"], prometheus_url=f"{url}/prometheus", kubeconfig=str(kubeconfig)
                )
            },
        )
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
        result = KubernetesGpuScanner(ctx).scan()
    lists = [p for m, p, _ in fake.calls if p.startswith("/clusters/")]
    expected = (
        math.ceil(500 / PAGE_LIMIT)
        + math.ceil(10_000 / PAGE_LIMIT)
        + math.ceil(len(cluster.jobs) / PAGE_LIMIT)
    )
    assert len(lists) == expected == 1 + 20 + 1
    assert fake.count("/prometheus/") == 1
    assert {p.rsplit("/", 1)[-1] for p in lists} == {"nodes", "pods", "jobs"}
    kinds = [o.kind for o in result.observations]
    # 100 GPU nodes; 80 busy nodes x 6 GPU pods = 480 pods holding GPUs
    assert kinds.count("k8s.node") == 100 and kinds.count("k8s.pod") == 480
    idle = [o for o in result.observations if o.kind == "k8s.node" and o.metrics["gpu_requested"] == 0]
    assert len(idle) == 20
    # p4d.24xlarge us-east-1 21.957642/h x 730 = 16029.07866 a month per idle node
    assert idle[0].metrics["idle_gpu_monthly_usd"] == round(21.957642 * 730, 6)
    assert result.coverage[0].status == "ok" and "22 list calls" in result.coverage[0].message
