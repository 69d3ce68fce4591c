"""EKS managed node groups of accelerated instances that stay scaled up with no GPU work.

Per region: ListClusters, ListNodegroups per cluster and DescribeNodegroup per node group (EKS has
no batch describe). The node group's instances come from the region's shared EC2 inventory (the
same DescribeInstances pages the EC2 scanners read, listed once per scan): EKS tags every managed
node with `eks:nodegroup-name` (and `eks:cluster-name`). Their CPU and, where the CloudWatch agent
publishes it, GPU utilisation come from one batched GetMetricData (500 queries per call) and one
ListMetrics per region, never a call per node. Cost is the EC2 on-demand price of the nodes that
are running (EKS adds no fee for managed node groups).

Pods are not visible through the AWS APIs: which pods request GPUs is the Kubernetes scanner's
job. Here idleness is judged from the nodes' own utilisation.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, ClassVar

from aifinops_cli.core import overlap
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import HOURS_PER_MONTH, Observation
from aifinops_cli.core.plugin import ScanContext
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.ec2 import DAY, fetch_metrics, gpu_metrics_by_instance
from aifinops_cli.scanners.aws.pricing import SpotPrices, read_list_prices, read_spot_prices, spot_cost_line

NODEGROUP_TAG = "eks:nodegroup-name"
CLUSTER_TAG = "eks:cluster-name"


def _node_queries(
    instance_id: str, index: int, gpu: list[dict[str, Any]], window: int
) -> list[dict[str, Any]]:
    dims = [{"Name": "InstanceId", "Value": instance_id}]
    out = [
        {
            "Id": f"cpuavg{index}",
            "ReturnData": True,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": dims},
                "Period": DAY,
                "Stat": "Average",
            },
        },
        {
            "Id": f"cpumax{index}",
            "ReturnData": True,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": dims},
                "Period": window,
                "Stat": "Maximum",
            },
        },
    ]
    for n, metric in enumerate(gpu):
        for stat, prefix in (("Average", "gpuavg"), ("Maximum", "gpumax")):
            out.append(
                {
                    "Id": f"{prefix}{index}x{n}",
                    "ReturnData": True,
                    "MetricStat": {"Metric": metric, "Period": window, "Stat": stat},
                }
            )
    return out


def _unique(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per metric (moto's ListMetrics repeats a metric once per datapoint)."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for m in metrics:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
        seen.setdefault((m.get("Namespace"), m.get("MetricName"), dims), m)
    return list(seen.values())


def summarise_nodes(values: dict[str, list[float]], nodes: list[tuple[int, int]]) -> dict[str, float | None]:
    """Per-node answers -> one set of node-group numbers: the busiest node decides the maxima,
    the average is over all node-days; `metric_days` is the shortest history among the nodes."""
    cpu_avg: list[float] = []
    cpu_max: list[float] = []
    gpu_avg: list[float] = []
    gpu_max: list[float] = []
    days: list[int] = []
    with_metrics = 0
    for index, gpus in nodes:
        daily = values.get(f"cpuavg{index}", [])
        if daily:
            with_metrics += 1
            days.append(len(daily))
        cpu_avg.extend(daily)
        cpu_max.extend(values.get(f"cpumax{index}", []))
        for n in range(gpus):
            gpu_avg.extend(values.get(f"gpuavg{index}x{n}", []))
            gpu_max.extend(values.get(f"gpumax{index}x{n}", []))
    return {
        "nodes_with_metrics": float(with_metrics),
        "metric_days": float(min(days)) if days else 0.0,
        "cpu_avg_pct": round(sum(cpu_avg) / len(cpu_avg), 2) if cpu_avg else None,
        "cpu_max_pct": round(max(cpu_max), 2) if cpu_max else None,
        "gpu_util_avg_pct": round(sum(gpu_avg) / len(gpu_avg), 2) if gpu_avg else None,
        "gpu_util_max_pct": round(max(gpu_max), 2) if gpu_max else None,
    }


class EksGpuNodegroupScanner(common.RegionalScanner):
    name = "aws.eks"
    description = (
        "EKS managed node groups of GPU/accelerator instances kept scaled up: node "
        "CPU and GPU utilisation over the lookback window"
    )
    kinds = ("aws.eks.nodegroup",)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "aws.eks.nodegroup": (
            "accelerated",
            "age_days",
            "capacity_type",
            "cluster",
            "cpu_avg_pct",
            "cpu_max_pct",
            "desired_size",
            "gpu_metrics",
            "gpu_util_avg_pct",
            "gpu_util_max_pct",
            "instance_types",
            "lookback_days",
            "max_size",
            "metric_days",
            "min_size",
            "node_ids",
            "nodes_running",
            "nodes_with_metrics",
            "status",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        ctx, account = self.context, self.account
        unpriced: list[dict[str, str]] = []  # this region's SKUs without a price
        eks = common.client(self.context, session, "eks", region)
        clusters = [c for page in eks.get_paginator("list_clusters").paginate() for c in page["clusters"]]
        groups: list[dict[str, Any]] = []
        total = 0
        for cluster in clusters:
            names = [
                n
                for page in eks.get_paginator("list_nodegroups").paginate(clusterName=cluster)
                for n in page["nodegroups"]
            ]
            total += len(names)
            for name in names:
                ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
                if any(common.is_accelerated(t) for t in ng.get("instanceTypes") or []):
                    groups.append(ng)
        out: list[Observation] = []
        problem = ""
        price_note = ""
        if groups:
            inv = common.inventory(ctx, session, region)
            price_note = read_list_prices(ctx, session, region, inv.instances, inv.volumes)
            nodes: dict[tuple[str, str], list[dict[str, Any]]] = {self._key(ng): [] for ng in groups}
            by_name = Counter(name for _, name in nodes)
            for inst in inv.instances:
                tags = common.tags_of(inst)
                if inst["State"]["Name"] != "running" or NODEGROUP_TAG not in tags:
                    continue
                name = tags[NODEGROUP_TAG]
                cluster = tags.get(CLUSTER_TAG)
                if cluster is None and by_name[name] == 1:  # older nodes: name is unique
                    cluster = next(c for c, n in nodes if n == name)
                if (cluster, name) in nodes:
                    nodes[(cluster, name)].append(inst)
            utilisation: dict[tuple[str, str], dict[str, float | None]] = {}
            running = [i for insts in nodes.values() for i in insts]
            if running:
                try:
                    utilisation = self._utilisation(ctx, session, region, nodes)
                except common.AWS_ERRORS as exc:
                    problem = common.explain(exc, "cloudwatch", region)
            spot, _ = read_spot_prices(ctx, session, region, running)  # else on demand, noted
            out = [
                self._observe(
                    ctx,
                    account,
                    region,
                    ng,
                    nodes[self._key(ng)],
                    utilisation.get(self._key(ng)),
                    unpriced,
                    spot,
                )
                for ng in groups
            ]
        note = f"{len(clusters)} clusters, {total} node groups, {len(groups)} accelerated"
        if problem:
            note = f"{note}; utilisation not read: {problem}"
        if price_note:
            note = f"{note}; {price_note}"
        return ScopeItems(out, note, partial=bool(problem), unpriced=unpriced)

    @staticmethod
    def _key(ng: dict[str, Any]) -> tuple[str, str]:
        return (ng["clusterName"], ng["nodegroupName"])

    def _utilisation(
        self, ctx: ScanContext, session: Any, region: str, nodes: dict[tuple[str, str], list[dict[str, Any]]]
    ) -> dict[tuple[str, str], dict[str, float | None]]:
        cloudwatch = common.client(self.context, session, "cloudwatch", region)
        end = ctx.now.replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=ctx.options.lookback_days)
        window = ctx.options.lookback_days * DAY
        gpu = {iid: _unique(found) for iid, found in gpu_metrics_by_instance(cloudwatch).items()}
        queries: list[dict[str, Any]] = []
        layout: dict[tuple[str, str], list[tuple[int, int]]] = {}
        index = 0
        for key, insts in nodes.items():
            layout[key] = []
            for inst in insts:
                metrics = gpu.get(inst["InstanceId"], [])
                queries.extend(_node_queries(inst["InstanceId"], index, metrics, window))
                layout[key].append((index, len(metrics)))
                index += 1
        values = fetch_metrics(cloudwatch, queries, start, end)
        return {key: summarise_nodes(values, entries) for key, entries in layout.items() if entries}

    def _observe(
        self,
        ctx: ScanContext,
        account: str,
        region: str,
        ng: dict[str, Any],
        nodes: list[dict[str, Any]],
        utilisation: dict[str, float | None] | None,
        unpriced: list[dict[str, str]],
        spot: SpotPrices,
    ) -> Observation:
        scaling = ng.get("scalingConfig") or {}
        types = ng.get("instanceTypes") or []
        # price what is running (Spot nodes at the Spot price in effect in their zone); if the
        # inventory shows no nodes yet, the desired size of the first instance type
        lines = []
        spot_nodes: Counter[tuple[str, str]] = Counter()
        counts: Counter[str] = Counter()
        for inst in nodes:
            zone = (inst.get("Placement") or {}).get("AvailabilityZone", "")
            if inst.get("InstanceLifecycle") == "spot" and (inst["InstanceType"], zone) in spot:
                spot_nodes[(inst["InstanceType"], zone)] += 1
            else:
                counts[inst["InstanceType"]] += 1
        for (itype, zone), count in sorted(spot_nodes.items()):
            line = spot_cost_line(
                spot, itype, zone, count, f"{itype} Spot EKS node x{count} in {zone}", each=True
            )
            if line is not None:
                lines.append(line)
        basis = "running nodes"
        if not nodes and scaling.get("desiredSize") and types:
            counts[types[0]] = int(scaling["desiredSize"])
            basis = "desired size (no running node seen)"
        for itype, count in sorted(counts.items()):
            line = ctx.prices.line(
                "aws.ec2",
                itype,
                region,
                HOURS_PER_MONTH * count,
                f"{itype} EKS node x{count}, {HOURS_PER_MONTH:g} h/month each",
            )
            if line is None:
                unpriced.append(
                    {
                        "scanner": self.name,
                        "resource_id": ng["nodegroupArn"],
                        "sku": f"aws.ec2:{itype}:{region}",
                    }
                )
            else:
                lines.append(line)
        tags = dict(ng.get("tags") or {})
        metrics: dict[str, float | None] = dict(utilisation or {})
        metrics.update(
            {
                "desired_size": float(scaling.get("desiredSize", 0)),
                "min_size": float(scaling.get("minSize", 0)),
                "max_size": float(scaling.get("maxSize", 0)),
                "nodes_running": float(len(nodes)),
                "age_days": age_days(ng.get("createdAt"), ctx.now),
            }
        )
        priced = ", ".join(
            label
            for label, n in (
                ("EC2 Spot prices in effect", sum(spot_nodes.values())),
                ("EC2 on-demand prices", sum(counts.values())),
            )
            if n
        )
        evidence = [f"cost from {basis}, {priced or 'no price'}"]
        if utilisation is not None:
            source = (
                "CPU and GPU (CloudWatch agent)"
                if utilisation.get("gpu_util_max_pct") is not None
                else "CPU only (no GPU metrics published)"
            )
            evidence.append(f"{ctx.options.lookback_days}-day window over {len(nodes)} node(s): {source}")
        if ng.get("capacityType") == "SPOT" and counts:
            evidence.append(
                "Spot node group with nodes priced at on-demand rates (no Spot price "
                "could be read), an upper bound"
            )
        return Observation(
            provider="aws",
            kind="aws.eks.nodegroup",
            id=f"{ng['clusterName']}/{ng['nodegroupName']}",
            covers=tuple(sorted(overlap.aws_instance(i["InstanceId"]) for i in nodes)),
            account=account,
            region=region,
            name=ng["nodegroupName"],
            tags=tags,
            owner=ctx.config.owner_from_tags(tags),
            metrics=metrics,
            attributes={
                "cluster": ng["clusterName"],
                "status": ng.get("status"),
                "instance_types": types,
                "capacity_type": ng.get("capacityType"),
                "accelerated": True,
                "gpu_metrics": bool(utilisation and utilisation.get("gpu_util_max_pct") is not None),
                "node_ids": sorted(i["InstanceId"] for i in nodes),
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=tuple(lines),
            evidence=tuple(evidence),
        )
