"""Benchmark: the Kubernetes GPU scanner against a 500-node, 10,000-pod cluster on loopback.

The cluster (`aifinops_cli.demo.fakes.k8s.big_cluster`) is served by the local fake API
server and a fake Prometheus with DCGM series; the scanner reaches it through a kubeconfig and
the real kubernetes client. Prints the list calls the server received (by resource), the
Prometheus queries, the observations, and wall time (median of --runs). The fake server runs in
the same process, so the time includes its own JSON work.

    python bench/k8s_scan.py [--nodes 500] [--pods 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.k8s import FakeK8s, big_cluster, serve, write_kubeconfig
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.k8s.provider import K8sSettings
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    now = datetime.now(UTC)
    cluster, dcgm = big_cluster(now, nodes=args.nodes, pods=args.pods)
    fake = FakeK8s(clusters={"big": cluster}, dcgm=dcgm)
    times: list[float] = []
    with serve(fake) as url, tempfile.TemporaryDirectory() as tmp:
        kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", url, ["big"])
        options = ScanOptions(
            providers=["k8s"],
            settings={
                "k8s": K8sSettings(
                    contexts=["big"], prometheus_url=f"{url}/prometheus", kubeconfig=str(kubeconfig)
                )
            },
        )
        for _ in range(args.runs):
            fake.calls.clear()
            ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=now)
            start = time.perf_counter()
            result = KubernetesGpuScanner(ctx).scan()
            times.append(time.perf_counter() - start)
    lists = Counter(p.rsplit("/", 1)[-1] for _, p, _ in fake.calls if p.startswith("/clusters/"))
    queries = sum(1 for _, p, _ in fake.calls if p.startswith("/prometheus/"))
    findings = Counter(f.rule_id for f in evaluate(load_rules(), result.observations))
    print(f"cluster: {args.nodes} nodes, {args.pods} pods, {len(cluster.jobs)} jobs")
    by_kind = ", ".join(f"{k}: {v}" for k, v in sorted(lists.items()))
    print(f"list calls per scan: {sum(lists.values())} ({by_kind})")
    print(f"prometheus queries per scan: {queries}")
    print(f"observations: {len(result.observations)}; findings: {dict(sorted(findings.items()))}")
    print(
        f"scan wall time: median {statistics.median(times):.2f} s over {args.runs} runs "
        f"(min {min(times):.2f} s, max {max(times):.2f} s)"
    )
    print(f"coverage: {result.coverage[0].status}: {result.coverage[0].message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
