"""Benchmark: the GCP scanners against several large projects on loopback.

Each project: N instances across 4 zones (half with GPUs, most of those idle by CPU), N/2
disks (a fifth unattached), one GKE cluster with a GPU pool, and the AI capacity: N/10 Vertex AI
endpoints with dedicated nodes in each of 2 regions, N/10 TPU VMs, N/10 Workbench instances
(backed by the GPU VMs), N/4 snapshots and N/10 images. Served by the local fake through the
real google-cloud clients (REST). Prints the API calls by kind and the wall time per scanner:
projects are scanned concurrently, Monitoring is batched (100 instances per query, grouped
server-side for endpoints and TPU nodes), lists are one per project (per region for Vertex).

    python bench/gcp_scan.py [--projects 3] [--instances 400]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
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
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.gke import GkeGpuNodePoolScanner
from aifinops_cli.scanners.gcp.images import GceImageSnapshotScanner
from aifinops_cli.scanners.gcp.monitoring import CPU_METRIC, TPU_DUTY_METRIC, TPU_VM_WORKER
from aifinops_cli.scanners.gcp.provider import GcpSettings
from aifinops_cli.scanners.gcp.tpu import TpuNodeScanner
from aifinops_cli.scanners.gcp.vertex import VertexEndpointScanner
from aifinops_cli.scanners.gcp.workbench import WorkbenchScanner

SCANNERS = (
    GcpComputeScanner,
    GkeGpuNodePoolScanner,
    VertexEndpointScanner,
    TpuNodeScanner,
    WorkbenchScanner,
    GceImageSnapshotScanner,
)
VERTEX_REGIONS = ("us-central1", "europe-west4")

ZONES = ("us-central1-a", "us-central1-b", "us-central1-c", "us-east1-b")


def project(name: str, count: int, now: datetime) -> FakeProject:
    old = now - timedelta(days=60)
    end = now.replace(minute=0, second=0, microsecond=0)
    proj = FakeProject()
    for n in range(count):
        zone = ZONES[n % len(ZONES)]
        gpu = n % 2 == 0
        iid = str(10_000_000 + n)
        proj.instances.setdefault(zone, []).append(
            instance_json(
                name,
                f"vm-{n}",
                zone,
                "n1-standard-8" if gpu else "e2-standard-4",
                int(iid),
                accelerators=[("nvidia-tesla-t4", 1)] if gpu else None,
                created=old,
                started=old,
                # vm-0, vm-2, ... below N/5 back Workbench instances (add_ai_capacity)
                labels={"goog-caip-notebook": ""} if gpu and n < count // 5 else None,
            )
        )
        if gpu:
            busy = n % 10 == 0
            labels = {"instance_id": iid, "zone": zone, "project_id": name}
            for aligner, value in (
                ("ALIGN_MEAN", 0.5 if busy else 0.01),
                ("ALIGN_MAX", 0.9 if busy else 0.03),
            ):
                proj.series.setdefault((CPU_METRIC, aligner), []).append(
                    series_json(
                        CPU_METRIC, {"instance_name": f"vm-{n}"}, "gce_instance", labels, [value] * 14, end
                    )
                )
    for n in range(count // 2):
        zone = ZONES[n % len(ZONES)]
        users = [] if n % 5 == 0 else [f"vm-{n}"]
        proj.disks.setdefault(zone, []).append(
            disk_json(name, f"disk-{n}", zone, "pd-balanced", 200, 20_000_000 + n, users=users, created=old)
        )
    proj.clusters = [
        cluster_json(
            name,
            "gke",
            "us-central1",
            [node_pool_json("gpu", "n1-standard-4", accelerators=[("nvidia-tesla-t4", 1)], node_count=0)],
        )
    ]
    add_ai_capacity(proj, name, count, now, end)
    return proj


def add_ai_capacity(proj: FakeProject, name: str, count: int, now: datetime, end: datetime) -> None:
    old = now - timedelta(days=60)
    for region in VERTEX_REGIONS:
        proj.endpoints[region] = [
            endpoint_json(
                "123456789012",
                region,
                f"{n}",
                f"ep-{region}-{n}",
                [
                    deployed_model_json(
                        f"{n}0",
                        f"m-{n}",
                        "n1-standard-4",
                        accelerator=("NVIDIA_TESLA_T4", 1),
                        created=old,
                        location=region,
                    )
                ],
                created=old,
            )
            for n in range(count // 10)
        ]
    proj.tpu_nodes = [
        tpu_node_json(name, "us-central1-a", f"tpu-{n}", "v5litepod-8", str(900_000 + n), created=old)
        for n in range(count // 10)
    ]
    proj.series[(TPU_DUTY_METRIC, "ALIGN_MAX")] = [
        series_json(
            TPU_DUTY_METRIC,
            {},
            TPU_VM_WORKER,
            {"resource_container": "123456789012", "location": "us-central1-a", "worker_id": "w"},
            [0.5] * 14,
            end,
        )
    ]  # TPU VM series, grouped per zone by the server: one for the zone
    # Workbench instances backed by some of the GPU VMs (vm-0, vm-2, ... in their zones)
    proj.workbench = [
        workbench_json(
            name,
            ZONES[n % len(ZONES)],
            f"vm-{n}",
            "n1-standard-8",
            accelerators=[("NVIDIA_TESLA_T4", 1)],
            created=old,
        )
        for n in range(0, count // 5, 2)
    ]
    proj.snapshots = [
        snapshot_json(
            name,
            f"snap-{n}",
            30_000_000 + n,
            source_disk=f"{ZONES[n % len(ZONES)]}/gpu-gone-{n}",
            disk_size_gb=200,
            storage_bytes=50 * 2**30,
            created=old,
        )
        for n in range(count // 4)
    ]
    proj.images = [
        image_json(
            name,
            f"cu121-image-{n}",
            40_000_000 + n,
            source_disk=f"us-central1-a/builder-{n}",
            disk_size_gb=100,
            archive_size_bytes=20 * 2**30,
            created=old,
        )
        for n in range(count // 10)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--instances", type=int, default=400)
    args = parser.parse_args()
    now = datetime.now(UTC)
    names = [f"bench-{n}" for n in range(args.projects)]
    fake = FakeGcp(projects={p: project(p, args.instances, now) for p in names})
    with serve(fake) as url:
        settings = GcpSettings(projects=names, endpoints={"": url}, vertex_locations=list(VERTEX_REGIONS))
        options = ScanOptions(providers=["gcp"], settings={"gcp": settings})
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=now)
        start = time.perf_counter()
        observations = []
        per_scanner = {}
        for scanner in SCANNERS:
            began, calls_before = time.perf_counter(), len(fake.calls)
            observations += scanner(ctx).scan().observations
            per_scanner[scanner.name] = (time.perf_counter() - began, len(fake.calls) - calls_before)
        elapsed = time.perf_counter() - start
    kinds = Counter()
    for _, path, _ in fake.calls:
        kinds["/".join(path.rsplit("/", 2)[-2:])] += 1  # aggregated/instances vs -/instances
    findings = Counter(f.rule_id for f in evaluate(load_rules(), observations))
    print(
        f"estate: {args.projects} projects x {args.instances} instances ({args.instances // 2} with GPUs), "
        f"{args.instances // 2} disks each"
    )
    print(f"API calls: {sum(kinds.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(kinds.items()))})")
    print(f"findings: {dict(sorted(findings.items()))}")
    for scanner_name, (took, calls) in per_scanner.items():
        print(f"  {scanner_name}: {calls} calls, {took:.2f} s")
    print(f"wall time: {elapsed:.2f} s (six scanners one after another, projects concurrent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
