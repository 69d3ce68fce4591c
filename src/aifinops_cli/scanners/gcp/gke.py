"""GKE node pools with GPUs that stay scaled up with no GPU workloads.

Per project: one `projects.locations.clusters.list` over every location (`locations/-`) gives
clusters with their node pools; a pool has GPUs when its node config lists accelerators or its
machine type is accelerator-optimised (A2, A3, G2). Its nodes are the project's Compute Engine
instances labelled `goog-k8s-cluster-name` / `goog-k8s-node-pool-name` (the same aggregatedList
the `gcp.compute` scanner reads, listed once per scan), or, where those labels are missing, the
instances whose `created-by` metadata names one of the pool's managed instance groups; priced
per node. A zone the instance list could not reach (an `UNREACHABLE` scope warning) hides the
nodes of every GPU pool running there: such a pool is named in the coverage, which turns partial,
rather than looking empty. Whether any container
asked for a GPU comes from GKE system metrics: `kubernetes.io/container/accelerator/request`
summed per node per day, and the GPU duty cycle, in two grouped timeSeries.list calls per
project, never a call per node.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core import overlap
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import Observation, ScanResult
from aifinops_cli.core.plugin import ScanContext, Scanner
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.scanners.gcp import common
from aifinops_cli.scanners.gcp.compute import PREEMPTIBLE_NOTE, SPOT_PRICED_NOTE
from aifinops_cli.scanners.gcp.monitoring import Monitoring, Window, gke_node_gpu_activity
from aifinops_cli.scanners.gcp.pricing import SPOT_MODELS, instance_lines, read_list_prices

CLUSTER_LABEL = "goog-k8s-cluster-name"
POOL_LABEL = "goog-k8s-node-pool-name"


def unlisted_zones(warnings: list[str]) -> dict[str, str]:
    """Zones whose instances were not listed, from the inventory's `zones/ZONE: CODE` warnings."""
    out = {}
    for w in warnings:
        scope, _, code = w.partition(": ")
        if scope.startswith("zones/"):
            out[scope.removeprefix("zones/")] = code
    return out


def pool_zones(cluster: Any, pool: Any) -> list[str]:
    """The zones a pool's nodes run in: the pool's, else the cluster's, else its location."""
    return list(pool.locations) or list(cluster.locations) or [cluster.location]


def hidden_zones(cluster: Any, pool: Any, unlisted: dict[str, str]) -> list[str]:
    """Unlisted zones where this pool may have nodes (a region-wide location covers its zones)."""
    where = pool_zones(cluster, pool)
    return sorted(z for z in unlisted if z in where or common.region_of_zone(z) in where)


def pool_gpus(pool: Any) -> tuple[str, int]:
    """(accelerator type, GPUs per node) of a node pool."""
    accels = [
        (a.accelerator_type, int(a.accelerator_count))
        for a in pool.config.accelerators
        if a.accelerator_count
    ]
    if accels:
        return accels[0][0], sum(n for _, n in accels)
    return common.bundled_gpus(pool.config.machine_type)


class GkeGpuNodePoolScanner(Scanner):
    name = "gcp.gke"
    provider = "gcp"
    description = (
        "GKE node pools with GPUs kept scaled up while no container requests a GPU "
        "(GKE system metrics over the lookback window)"
    )
    kinds = ("gcp.gke.nodepool",)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "gcp.gke.nodepool": (
            "accelerator_type",
            "autoscaling",
            "autoscaling_min_nodes",
            "cluster",
            "gpu_count",
            "gpu_duty_cycle_max_pct",
            "gpu_requests_max",
            "gpus_per_node",
            "lookback_days",
            "machine_type",
            "min_node_age_days",
            "node_count",
            "spot",
            "status",
            "zones",
            "zones_not_listed",
        ),
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        window = Window.ending(ctx.now, ctx.options.lookback_days)

        def work(project: str) -> ScopeItems:
            unpriced: list[dict[str, str]] = []  # this project's SKUs without a price
            from google.cloud import container_v1

            acc = common.access(ctx)
            client = common.gapic_client(ctx, container_v1.ClusterManagerClient, "container")
            answer = client.list_clusters(parent=f"projects/{project}/locations/-", **common.call_limits(ctx))
            problems = (
                [f"zones not answering: {', '.join(answer.missing_zones)}"] if answer.missing_zones else []
            )
            pools = [
                (cluster, pool)
                for cluster in answer.clusters
                for pool in cluster.node_pools
                if pool_gpus(pool)[1] > 0
            ]
            if not pools:
                return ScopeItems(
                    [], f"{len(answer.clusters)} clusters, no GPU node pools", partial=bool(problems)
                )
            inv = common.inventory(ctx, project)
            unlisted = unlisted_zones(inv.warnings)
            for cluster, pool in pools:
                hidden = hidden_zones(cluster, pool, unlisted)
                if hidden:
                    problems.append(
                        f"node pool {cluster.name}/{pool.name}: instances in "
                        + ", ".join(f"{z} ({unlisted[z]})" for z in hidden)
                        + " not listed, its nodes and cost there unknown"
                    )
            groups = {
                common.last_segment(url): (cluster.name, pool.name)
                for cluster, pool in pools
                for url in pool.instance_group_urls
            }
            nodes: dict[tuple[str, str], list[common.GceInstance]] = {}
            for inst in inv.instances:
                if inst.status != "RUNNING":
                    continue
                if CLUSTER_LABEL in inst.labels:
                    key = (inst.labels[CLUSTER_LABEL], inst.labels.get(POOL_LABEL, ""))
                elif inst.created_by in groups:
                    key = groups[inst.created_by]
                else:
                    continue
                nodes.setdefault(key, []).append(inst)
            # the pools' nodes at the Cloud Billing Catalog's prices (Spot SKUs for Spot pools);
            # gcp.compute leaves GKE nodes to this scanner, so it reads them itself
            price_note = read_list_prices(
                ctx, [n for c, p in pools for n in nodes.get((c.name, p.name), [])], []
            )
            activity: dict[tuple[str, str], dict[str, float | None]] = {}
            metrics_read = False
            if any(nodes.get((c.name, p.name)) for c, p in pools):
                try:
                    activity = gke_node_gpu_activity(Monitoring(acc, ctx), project, window)
                    metrics_read = True
                except common.expected_errors() as exc:
                    problems.append(f"GPU requests not read: {common.explain(exc, 'monitoring')}")
            out = [
                self._pool(
                    ctx,
                    project,
                    cluster,
                    pool,
                    nodes.get((cluster.name, pool.name), []),
                    activity,
                    metrics_read,
                    unpriced,
                    hidden_zones(cluster, pool, unlisted),
                )
                for cluster, pool in pools
            ]
            note = f"{len(answer.clusters)} clusters, {len(pools)} GPU node pools"
            if problems:
                note = f"{note}; " + "; ".join(problems)
            if price_note:
                note = f"{note}; {price_note}"
            return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

        done = common.for_each_project(ctx, self.name, work)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    def _pool(
        self,
        ctx: ScanContext,
        project: str,
        cluster: Any,
        pool: Any,
        nodes: list[common.GceInstance],
        activity: dict[tuple[str, str], dict[str, float | None]],
        metrics_read: bool,
        unpriced: list[dict[str, str]],
        hidden: list[str],
    ) -> Observation:
        accel, per_node = pool_gpus(pool)
        lines = []
        missing_skus: list[str] = []
        pool_spot = bool(pool.config.spot or pool.config.preemptible)
        for node in nodes:
            # a Spot (or legacy preemptible) pool's nodes bill at the Spot SKUs, as Compute
            # Engine's own Spot VMs do (scanners/gcp/pricing.py)
            node_lines, missing = instance_lines(
                ctx.prices,
                node.region,
                node.machine_type,
                node.accelerators,
                spot=pool_spot or node.provisioning_model in SPOT_MODELS,
            )
            lines.extend(node_lines)
            missing_skus.extend(missing)
            unpriced.extend({"scanner": self.name, "resource_id": node.name, "sku": s} for s in missing)
        requests = [
            a["gpu_requests_max"]
            for n in nodes
            if (a := activity.get((cluster.name, n.name))) and a["gpu_requests_max"] is not None
        ]
        duty = [
            a["gpu_duty_cycle_max_pct"]
            for n in nodes
            if (a := activity.get((cluster.name, n.name))) and a["gpu_duty_cycle_max_pct"] is not None
        ]
        ages = [a for a in (age_days(n.created, ctx.now) for n in nodes) if a is not None]
        # GKE writes the request metric only for containers that request accelerators: once the
        # metrics were read, a node with no series had no GPU container all window.
        requests_max = max(requests) if requests else (0.0 if metrics_read else None)
        tags = dict(cluster.resource_labels)
        tags.update(pool.config.labels)
        autoscaling = pool.autoscaling
        return Observation(
            provider="gcp",
            kind="gcp.gke.nodepool",
            id=f"{cluster.name}/{pool.name}",
            covers=tuple(sorted(overlap.gce_instance(project, n.zone, n.name) for n in nodes)),
            account=project,
            region=cluster.location,
            name=pool.name,
            tags=tags,
            owner=ctx.config.owner_from_tags(tags),
            metrics={
                "node_count": float(len(nodes)),
                "gpus_per_node": float(per_node),
                "gpu_count": float(per_node * len(nodes)),
                "gpu_requests_max": requests_max,
                "gpu_duty_cycle_max_pct": max(duty) if duty else None,
                "min_node_age_days": min(ages) if ages else None,
                "autoscaling_min_nodes": float(autoscaling.min_node_count) if autoscaling.enabled else None,
            },
            attributes={
                "cluster": cluster.name,
                "machine_type": pool.config.machine_type,
                "accelerator_type": accel,
                "autoscaling": bool(autoscaling.enabled),
                "spot": bool(pool.config.spot or pool.config.preemptible),
                "status": pool.status.name if hasattr(pool.status, "name") else str(pool.status),
                "zones": pool_zones(cluster, pool),
                "zones_not_listed": hidden,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=tuple(lines),
            unpriced=tuple(dict.fromkeys(missing_skus)),
            evidence=(
                f"{len(nodes)} running nodes x {per_node} {accel}; GKE system metric "
                f"{'read' if metrics_read else 'not available'} over {ctx.options.lookback_days} days",
                *(
                    (
                        (
                            PREEMPTIBLE_NOTE
                            if pool.config.preemptible and not pool.config.spot
                            else SPOT_PRICED_NOTE
                        ),
                    )
                    if pool_spot
                    else ()
                ),
                *(
                    (
                        f"nodes in {', '.join(hidden)} not listed (zone unreachable): node count and "
                        "cost cover the other zones only",
                    )
                    if hidden
                    else ()
                ),
            ),
        )
