"""The Google Cloud part of the demo estate: two projects served by the local fake.

`demo_gcp(options)` starts the fake on 127.0.0.1, points the GCP scanners at it (through
`GcpSettings.endpoints`, anonymous credentials) and names the projects; everything
stops when the block exits. Deterministic: fixed ids and values, times relative to `now`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from aifinops_cli.core.plugin import ScanOptions
from aifinops_cli.demo.fakes.gcp import (
    FakeGcp,
    FakeProject,
    cluster_json,
    deployed_model_json,
    disk_json,
    endpoint_json,
    image_json,
    instance_json,
    node_pool_json,
    series_json,
    serve,
    snapshot_json,
    tpu_node_json,
    workbench_json,
)
from aifinops_cli.scanners.gcp.monitoring import (
    CPU_METRIC,
    GKE_DUTY_METRIC,
    GKE_REQUEST_METRIC,
    GPU_METRIC,
    TPU_DUTY_METRIC,
    TPU_VM_WORKER,
    VERTEX_PREDICTIONS_METRIC,
)

PROJECTS = ("acme-ml-prod", "acme-research")


def _add_series(
    proj: FakeProject,
    project: str,
    iid: str,
    name: str,
    zone: str,
    end: datetime,
    cpu: tuple[float, float],
    gpu: tuple[float, float] | None = None,
    days: int = 14,
) -> None:
    labels = {"instance_id": iid, "zone": zone, "project_id": project}
    for aligner, value in (("ALIGN_MEAN", cpu[0]), ("ALIGN_MAX", cpu[1])):
        proj.series.setdefault((CPU_METRIC, aligner), []).append(
            series_json(
                CPU_METRIC, {"instance_name": name}, "gce_instance", labels, [value / 100] * days, end
            )
        )
    if gpu is not None:
        ml = {"gpu_number": "0", "model": "NVIDIA A100-SXM4-40GB", "uuid": f"GPU-{iid}-0"}
        for aligner, value in (("ALIGN_MEAN", gpu[0]), ("ALIGN_MAX", gpu[1])):
            proj.series.setdefault((GPU_METRIC, aligner), []).append(
                series_json(GPU_METRIC, ml, "gce_instance", labels, [value] * days, end)
            )


def demo_gcp_estate(now: datetime) -> FakeGcp:
    end = now.replace(minute=0, second=0, microsecond=0)
    old = now - timedelta(days=90)
    p, zone = PROJECTS[0], "us-central1-a"
    prod = FakeProject(zones=("us-east1-b",))
    gke = {"goog-gke-node": "", "goog-k8s-cluster-name": "ml-gke"}
    prod.instances[zone] = [
        instance_json(
            p,
            "llm-eval-a100",
            zone,
            "a2-highgpu-1g",
            7100000000000001,
            accelerators=[("nvidia-tesla-a100", 1)],
            labels={"team": "ml-research"},
            created=old,
            started=now - timedelta(days=40),
        ),
        instance_json(
            p,
            "cv-train-t4",
            zone,
            "n1-standard-8",
            7100000000000002,
            accelerators=[("nvidia-tesla-t4", 2)],
            created=old,
            started=now - timedelta(days=21),
        ),
        instance_json(
            p,
            "inference-l4",
            zone,
            "g2-standard-8",
            7100000000000003,
            labels={"team": "inference"},
            created=old,
            started=old,
        ),
        instance_json(
            p,
            "batch-v100",
            zone,
            "n1-standard-16",
            7100000000000004,
            status="TERMINATED",
            accelerators=[("nvidia-tesla-v100", 4)],
            labels={"team": "ml-research"},
            created=old,
            stopped=now - timedelta(days=60),
        ),
        instance_json(
            p,
            "api-gateway",
            zone,
            "e2-standard-4",
            7100000000000005,
            labels={"team": "platform"},
            created=old,
            started=old,
        ),
        *[
            instance_json(
                p,
                f"gke-ml-gke-t4-pool-{n}",
                zone,
                "n1-standard-4",
                7100000000000010 + n,
                accelerators=[("nvidia-tesla-t4", 1)],
                created=now - timedelta(days=30),
                started=now - timedelta(days=30),
                labels={**gke, "goog-k8s-node-pool-name": "t4-pool"},
            )
            for n in range(2)
        ],
        instance_json(
            p,
            "gke-ml-gke-l4-serving-0",
            zone,
            "g2-standard-8",
            7100000000000020,
            created=old,
            started=old,
            labels={**gke, "goog-k8s-node-pool-name": "l4-serving"},
        ),
    ]
    prod.disks[zone] = [
        disk_json(
            p, "batch-v100", zone, "pd-balanced", 1500, 7200000000000004, users=["batch-v100"], created=old
        ),
        disk_json(
            p,
            "llm-eval-scratch",
            zone,
            "pd-ssd",
            1000,
            7200000000000001,
            labels={"team": "ml-research"},
            created=old,
            attached=old,
            detached=now - timedelta(days=45),
        ),
        disk_json(
            p, "old-dataset", zone, "pd-standard", 2000, 7200000000000002, created=now - timedelta(days=200)
        ),
        disk_json(
            p,
            "llm-eval-a100",
            zone,
            "pd-balanced",
            200,
            7200000000000003,
            users=["llm-eval-a100"],
            created=old,
        ),
    ]
    _add_series(prod, p, "7100000000000001", "llm-eval-a100", zone, end, (1.5, 4.0), (0.3, 1.2))
    _add_series(prod, p, "7100000000000002", "cv-train-t4", zone, end, (2.0, 6.0))
    _add_series(prod, p, "7100000000000003", "inference-l4", zone, end, (45.0, 88.0), (70.0, 99.0))
    prod.series[(GKE_REQUEST_METRIC, "ALIGN_MAX")] = [
        series_json(
            GKE_REQUEST_METRIC,
            {},
            "k8s_container",
            {"cluster_name": "ml-gke", "project_id": p},
            [1] * 14,
            end,
            int_values=True,
            system_labels={"node_name": "gke-ml-gke-l4-serving-0"},
        )
    ]
    prod.series[(GKE_DUTY_METRIC, "ALIGN_MAX")] = [
        series_json(
            GKE_DUTY_METRIC,
            {},
            "k8s_container",
            {"cluster_name": "ml-gke", "project_id": p},
            [64] * 14,
            end,
            int_values=True,
            system_labels={"node_name": "gke-ml-gke-l4-serving-0"},
        )
    ]
    prod.clusters = [
        cluster_json(
            p,
            "ml-gke",
            "us-central1",
            [
                node_pool_json("default-pool", "e2-standard-4", node_count=3),
                node_pool_json(
                    "t4-pool",
                    "n1-standard-4",
                    accelerators=[("nvidia-tesla-t4", 1)],
                    autoscaling=(2, 6),
                    node_count=2,
                    labels={"team": "cv"},
                ),
                node_pool_json("l4-serving", "g2-standard-8", accelerators=[("nvidia-l4", 1)], node_count=1),
            ],
            labels={"team": "ml-platform"},
        )
    ]

    r, rzone = PROJECTS[1], "europe-west4-a"
    research = FakeProject(zones=("europe-west4-b",))
    research.instances[rzone] = [
        instance_json(
            r,
            "notebook-g2",
            rzone,
            "g2-standard-4",
            7300000000000001,
            labels={"owner": "dr-lee"},
            created=now - timedelta(days=20),
            started=now - timedelta(days=20),
        ),
    ]
    research.disks[rzone] = [
        disk_json(
            r,
            "research-ckpt",
            rzone,
            "pd-balanced",
            500,
            7400000000000001,
            created=old,
            attached=old,
            detached=now - timedelta(days=12),
        ),
    ]
    _add_series(research, r, "7300000000000001", "notebook-g2", rzone, end, (0.8, 3.0))
    _add_ai_capacity(prod, research, now, end)
    return FakeGcp(projects={p: prod, r: research})


def _add_ai_capacity(prod: FakeProject, research: FakeProject, now: datetime, end: datetime) -> None:
    """Vertex AI endpoints, a TPU VM, a Workbench instance, and snapshots/images of GPU work."""
    p, r, zone, rzone = PROJECTS[0], PROJECTS[1], "us-central1-a", "europe-west4-a"
    number = "482910337164"  # Vertex names endpoints by project number
    prod.endpoints["us-central1"] = [
        # deployed for the support team's ticket reranker, traffic moved elsewhere a month ago
        endpoint_json(
            number,
            "us-central1",
            "5120000000000000001",
            "support-reranker",
            [
                deployed_model_json(
                    "3301",
                    "reranker-l4",
                    "g2-standard-8",
                    accelerator=("NVIDIA_L4", 1),
                    replicas=(1, 3),
                    created=now - timedelta(days=30),
                    project_number=number,
                )
            ],
            created=now - timedelta(days=75),
            labels={"team": "support"},
        ),
        endpoint_json(
            number,
            "us-central1",
            "5120000000000000002",
            "cx-intent",
            [
                deployed_model_json(
                    "3302",
                    "intent-v4",
                    "n1-standard-4",
                    created=now - timedelta(days=50),
                    project_number=number,
                )
            ],
            created=now - timedelta(days=50),
            labels={"team": "cx"},
        ),
    ]
    prod.series[(VERTEX_PREDICTIONS_METRIC, "ALIGN_SUM")] = [
        series_json(
            VERTEX_PREDICTIONS_METRIC,
            {},
            "aiplatform.googleapis.com/Endpoint",
            {"resource_container": number, "location": "us-central1", "endpoint_id": "5120000000000000002"},
            [18250] * 14,
            end,
            int_values=True,
        )
    ]
    # leftovers of the finished V100 batch project and a CUDA training image nobody launches
    prod.snapshots = [
        snapshot_json(
            p,
            "batch-v100-final",
            7500000000000001,
            source_disk=f"{zone}/batch-v100-old",
            disk_size_gb=2000,
            storage_bytes=1200 * 2**30,
            created=now - timedelta(days=150),
            labels={"team": "research"},
        ),
        snapshot_json(
            p,
            "llm-eval-a100-weekly",
            7500000000000002,
            source_disk=f"{zone}/llm-eval-a100",
            disk_size_gb=200,
            storage_bytes=60 * 2**30,
            created=now - timedelta(days=6),
        ),
    ]
    prod.images = [
        image_json(
            p,
            "train-cuda-cu121-2026-05",
            7600000000000001,
            source_disk=f"{zone}/train-builder",
            disk_size_gb=200,
            archive_size_bytes=80 * 2**30,
            family="train-cuda-cu121",
            created=now - timedelta(days=100),
        )
    ]
    # research: a TPU v5e slice from a finished sweep and a T4 notebook left running
    research.tpu_nodes = [
        tpu_node_json(
            r,
            rzone,
            "research-v5e-sweep",
            "v5litepod-4",
            "8100000000000001",
            created=now - timedelta(days=25),
            labels={"team": "research"},
        )
    ]
    for metric, aligner, value in (
        (TPU_DUTY_METRIC, "ALIGN_MAX", 0.3),
        (TPU_DUTY_METRIC, "ALIGN_MEAN", 0.05),
    ):
        # a TPU VM: its workers' series name the zone and worker, not the node
        labels = {"resource_container": "482910337165", "location": rzone, "worker_id": "6120000000000001"}
        research.series.setdefault((metric, aligner), []).append(
            series_json(metric, {"accelerator_id": "0"}, TPU_VM_WORKER, labels, [value] * 14, end)
        )
    research.workbench = [
        workbench_json(
            r,
            rzone,
            "research-nb-t4",
            "n1-standard-8",
            accelerators=[("NVIDIA_TESLA_T4", 1)],
            creator="dr-lee@acme.example",
            labels={"team": "research"},
            created=now - timedelta(days=35),
        )
    ]
    research.instances[rzone].append(
        instance_json(
            r,
            "research-nb-t4",
            rzone,
            "n1-standard-8",
            7300000000000002,
            accelerators=[("nvidia-tesla-t4", 1)],
            labels={"goog-caip-notebook": "", "team": "research"},
            created=now - timedelta(days=35),
            started=now - timedelta(days=18),
        )
    )
    _add_series(research, r, "7300000000000002", "research-nb-t4", rzone, end, (0.6, 2.4))


@contextmanager
def demo_gcp(options: ScanOptions, now: datetime | None = None) -> Iterator[FakeGcp]:
    """Serve the demo projects and point `options` at them for the duration of the block."""
    estate = demo_gcp_estate(now or datetime.now(UTC))
    with serve(estate) as url:
        options.settings_for("gcp").endpoints[""] = url
        options.settings_for("gcp").projects = list(PROJECTS)
        if "gcp" not in options.providers:
            options.providers.append("gcp")
        yield estate
