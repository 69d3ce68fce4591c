"""Benchmark: the GCP scanners against several large projects on loopback.

Each project: N instances across 4 zones (half with GPUs, most of those idle by CPU), N/2
disks (a fifth unattached), one GKE cluster with a GPU pool. Served by the local fake through
the real google-cloud clients (REST). Prints the API calls by kind and the wall time: projects
are scanned concurrently, Monitoring is batched 100 instances per query.

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
    disk_json,
    instance_json,
    node_pool_json,
    series_json,
    serve,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.gke import GkeGpuNodePoolScanner
from aifinops_cli.scanners.gcp.monitoring import CPU_METRIC
from aifinops_cli.scanners.gcp.provider import GcpSettings

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
    return proj


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--instances", type=int, default=400)
    args = parser.parse_args()
    now = datetime.now(UTC)
    names = [f"bench-{n}" for n in range(args.projects)]
    fake = FakeGcp(projects={p: project(p, args.instances, now) for p in names})
    with serve(fake) as url:
        settings = GcpSettings(projects=names, endpoints={"": url})
        options = ScanOptions(providers=["gcp"], settings={"gcp": settings})
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=now)
        start = time.perf_counter()
        observations = []
        for scanner in (GcpComputeScanner, GkeGpuNodePoolScanner):
            observations += scanner(ctx).scan().observations
        elapsed = time.perf_counter() - start
    kinds = Counter()
    for _, path, _ in fake.calls:
        kinds[path.rsplit("/", 1)[-1]] += 1
    findings = Counter(f.rule_id for f in evaluate(load_rules(), observations))
    print(
        f"estate: {args.projects} projects x {args.instances} instances ({args.instances // 2} with GPUs), "
        f"{args.instances // 2} disks each"
    )
    print(f"API calls: {sum(kinds.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(kinds.items()))})")
    print(f"findings: {dict(sorted(findings.items()))}")
    print(f"wall time: {elapsed:.2f} s (both scanners, projects concurrent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
