"""The Kubernetes part of the demo estate: a cloud cluster and an on-prem one, with DCGM metrics.

`demo_k8s(options)` serves both clusters and a Prometheus from the local fake, writes a
temporary kubeconfig with one context per cluster, and points `options` at them (contexts,
`kubeconfig`, `prometheus_url` in its K8sSettings). The on-prem nodes carry their chargeback rate in the
`aifinops.io/gpu-hourly-usd` label, so they are priced without any config. Deterministic.

DCGM: most GPUs publish only `DCGM_FI_DEV_GPU_UTIL`; the p4d node serving summaries publishes
the engine-activity counter and frame-buffer memory too (busy by GPU_UTIL, 6% by engine
activity, 7 GB of 40 a GPU: a `gpu-rightsize` to g6.12xlarge), and the on-prem MIG box's slices
(mixed strategy, 1g.10gb = 1/7 of an A100) report per MIG instance.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aifinops_cli.core.plugin import ScanOptions
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

CONTEXTS = ("eks-ml", "onprem-dgx")


def demo_k8s_estate(now: datetime, provider_ids: dict[str, str] | None = None) -> FakeK8s:
    """`provider_ids` ties nodes to machines another demo fake serves (the EC2 demo's ids)."""
    ids = {"ip-10-1-0-11.ec2.internal": "aws:///us-east-1a/i-0d1a", **(provider_ids or {})}
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    hours = lambda n: now - timedelta(hours=n)  # noqa: E731
    aws = {
        "node.kubernetes.io/instance-type": "g5.12xlarge",
        "topology.kubernetes.io/region": "us-east-1",
        "eks.amazonaws.com/nodegroup": "gpu-a10g",
    }
    karpenter = {
        "node.kubernetes.io/instance-type": "g5.12xlarge",
        "topology.kubernetes.io/region": "us-east-1",
        "karpenter.sh/nodepool": "gpu",
    }
    eks = FakeCluster(
        nodes=[
            node_json(
                "ip-10-1-0-11.ec2.internal",
                gpus=4,
                labels=karpenter,
                provider_id=ids["ip-10-1-0-11.ec2.internal"],
                created=days(12),
            ),
            node_json(
                "ip-10-1-0-12.ec2.internal",
                gpus=4,
                labels=aws,
                provider_id="aws:///us-east-1a/i-0d1b",
                created=days(30),
            ),
            node_json(
                "ip-10-1-2-40.ec2.internal",
                gpus=8,
                labels={
                    "node.kubernetes.io/instance-type": "p4d.24xlarge",
                    "topology.kubernetes.io/region": "us-east-1",
                    "eks.amazonaws.com/nodegroup": "gpu-a100",
                    "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB",
                },
                provider_id="aws:///us-east-1b/i-0d1c",
                created=days(45),
                cpu="96",
                memory="1152Gi",
            ),
            node_json(
                "ip-10-1-1-20.ec2.internal",
                created=days(60),
                labels={
                    "node.kubernetes.io/instance-type": "m5.2xlarge",
                    "topology.kubernetes.io/region": "us-east-1",
                },
            ),
        ],
        pods=[
            pod_json(
                "search",
                "reranker-6f7c9-x2x8q",
                "ip-10-1-0-12.ec2.internal",
                gpus=1,
                started=days(8),
                owner=("ReplicaSet", "reranker-6f7c9"),
                labels={"team": "search", "app": "reranker"},
            ),
            pod_json(
                "llm",
                "finetune-worker-0",
                "ip-10-1-0-12.ec2.internal",
                gpus=2,
                started=days(2),
                owner=("StatefulSet", "finetune-worker"),
                labels={"team": "ml-research"},
            ),
            pod_json(
                "llm",
                "eval-run-42-7kq2m",
                "ip-10-1-0-12.ec2.internal",
                gpus=1,
                started=days(1),
                owner=("Job", "eval-run-42"),
                terminated_at=hours(20),
                sidecar=True,
                labels={"team": "ml-research"},
            ),
            pod_json(
                "support",
                "summarizer-7d9f4-kq8xz",
                "ip-10-1-2-40.ec2.internal",
                gpus=8,
                started=days(21),
                owner=("ReplicaSet", "summarizer-7d9f4"),
                labels={"team": "support", "app": "summarizer"},
            ),
            pod_json("web", "frontend-0", "ip-10-1-1-20.ec2.internal", started=days(10)),
        ],
        jobs=[job_json("llm", "eval-run-42", completed=None, started=days(1))],
    )
    dgx = {
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
        "aifinops.io/gpu-hourly-usd": "1.60",
        "node-pool": "dgx-a100",
    }
    mig = {
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
        "nvidia.com/mig.strategy": "mixed",
        "nvidia.com/gpu.count": "1",
        "aifinops.io/gpu-hourly-usd": "1.60",
        "node-pool": "a100-mig",
    }
    onprem = FakeCluster(
        nodes=[
            *[
                node_json(f"dgx-{n:02d}", gpus=8, labels=dgx, created=days(400), cpu="256", memory="2Ti")
                for n in range(1, 4)
            ],
            node_json(
                "mig-01",
                gpus=7,
                resource="nvidia.com/mig-1g.10gb",
                labels=mig,
                created=days(200),
                cpu="64",
                memory="512Gi",
            ),
        ],
        pods=[
            pod_json(
                "research",
                "jupyter-kim-0",
                "dgx-01",
                gpus=2,
                started=days(6),
                labels={"notebook-name": "jupyter-kim", "team": "research"},
                owner=("StatefulSet", "jupyter-kim"),
                image="kubeflownotebookswg/jupyter-pytorch-cuda:v1.9.0",
                annotations={
                    "notebooks.kubeflow.org/last-activity": hours(96).strftime("%Y-%m-%dT%H:%M:%SZ")
                },
            ),
            *[
                pod_json(
                    "training",
                    f"pretrain-{n}",
                    "dgx-02",
                    gpus=2,
                    started=days(4),
                    owner=("StatefulSet", "pretrain"),
                    labels={"team": "foundation"},
                )
                for n in range(4)
            ],
            *[
                pod_json(
                    "cx",
                    f"embed-{n}",
                    "mig-01",
                    gpus=1,
                    resource="nvidia.com/mig-1g.10gb",
                    started=days(9),
                    owner=("ReplicaSet", "embed"),
                    labels={"team": "cx"},
                )
                for n in range(3)
            ],
        ],
    )
    dcgm = [
        *[DcgmSeries("ip-10-1-0-11.ec2.internal", g, 0.0, 0.0) for g in range(4)],
        DcgmSeries("ip-10-1-0-12.ec2.internal", 0, 0.4, 2.0, "search", "reranker-6f7c9-x2x8q", "main"),
        DcgmSeries("ip-10-1-0-12.ec2.internal", 1, 76.0, 98.0, "llm", "finetune-worker-0", "main"),
        DcgmSeries("ip-10-1-0-12.ec2.internal", 2, 71.0, 97.0, "llm", "finetune-worker-0", "main"),
        DcgmSeries("ip-10-1-0-12.ec2.internal", 3, 0.0, 0.0, "llm", "eval-run-42-7kq2m", "main"),
        DcgmSeries("dgx-01", 0, 0.1, 0.8, "research", "jupyter-kim-0", "main"),
        DcgmSeries("dgx-01", 1, 0.0, 0.0, "research", "jupyter-kim-0", "main"),
        *[DcgmSeries("dgx-02", g, 88.0, 100.0, "training", f"pretrain-{g // 2}", "main") for g in range(8)],
        *[DcgmSeries("dgx-03", g, 0.0, 0.0) for g in range(8)],
        # GPU_UTIL reads 70% (a kernel always trickling); the engine was busy 6% at most
        *[
            DcgmSeries(
                "ip-10-1-2-40.ec2.internal",
                g,
                35.0,
                70.0,
                "support",
                "summarizer-7d9f4-kq8xz",
                "main",
                engine_avg=0.03,
                engine_max=0.06,
                fb_used_max=7168.0,
                fb_free_min=40960.0 - 7168.0,
                model="NVIDIA A100-SXM4-40GB",
            )
            for g in range(8)
        ],
        # MIG instances report engine activity, not GPU_UTIL; embed-2 has not used its slice
        *[
            DcgmSeries(
                "mig-01",
                0,
                0.0,
                0.0,
                "cx",
                f"embed-{n}",
                "main",
                engine_avg=avg,
                engine_max=top,
                fb_used_max=used,
                fb_free_min=9856.0 - used,
                mig_profile="1g.10gb",
                mig_id=str(7 + n),
            )
            for n, (avg, top, used) in enumerate(
                ((0.21, 0.45, 6100.0), (0.17, 0.38, 5200.0), (0.0, 0.004, 310.0))
            )
        ],
    ]
    return FakeK8s(clusters={"eks-ml": eks, "onprem-dgx": onprem}, dcgm=dcgm)


@contextmanager
def demo_k8s(
    options: ScanOptions, now: datetime | None = None, provider_ids: dict[str, str] | None = None
) -> Iterator[FakeK8s]:
    """Serve the demo clusters and point `options` at them for the duration of the block."""
    estate = demo_k8s_estate(now or datetime.now(UTC), provider_ids)
    with serve(estate) as url, tempfile.TemporaryDirectory(prefix="aifinops-demo-k8s-") as tmp:
        kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", url, list(CONTEXTS))
        options.settings_for("k8s").kubeconfig = str(kubeconfig)
        options.settings_for("k8s").contexts = list(CONTEXTS)
        options.settings_for("k8s").prometheus_url = f"{url}/prometheus"
        if "k8s" not in options.providers:
            options.providers.append("k8s")
        yield estate
