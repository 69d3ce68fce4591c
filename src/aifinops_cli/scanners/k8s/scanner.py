"""Kubernetes GPU capacity: nodes nobody requests, pods holding GPUs they do not use, and
notebooks and jobs that keep GPUs after their work ended. Cloud and on-prem clusters alike.

Per cluster (clusters run concurrently): one paginated list of nodes, one of non-terminal pods
(all namespaces), one of jobs only when some GPU pod belongs to a Job, and one Prometheus
instant query for DCGM utilisation when a Prometheus URL is given. A fixed number of calls per
500 objects, whatever the cluster size; never a call per node or per pod.

What the API shows is a snapshot: a node with no GPU pod right now. DCGM metrics (when given)
cover the whole lookback window and raise the confidence of what the snapshot suggests.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, ClassVar

from aifinops_cli.core import overlap
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import Observation, ScanResult
from aifinops_cli.core.plugin import Scanner
from aifinops_cli.core.timeutil import age_days, age_hours, parse_time
from aifinops_cli.pricing.gpu_fit import RIGHTSIZE_FIELDS, GpuNeed, mig_share, rightsize_metrics
from aifinops_cli.scanners.k8s import cluster as kc
from aifinops_cli.scanners.k8s.pricing import (
    GPU_PRODUCT_LABEL,
    MIG_STRATEGY_LABEL,
    REGION_LABELS,
    GpuShape,
    NodeRate,
    cloud_of,
    gpu_shape,
    node_rate,
    unpriced_sku,
)
from aifinops_cli.scanners.k8s.prometheus import (
    ENGINE_METRIC,
    METRIC,
    GpuUsage,
    PrometheusError,
    attribute,
    gpu_usage,
)
from aifinops_cli.scanners.k8s.provider import K8sProvider, check_settings

POOL_LABELS = (
    "cloud.google.com/gke-nodepool",
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "kubernetes.azure.com/agentpool",
    "node-pool",
)
PRODUCT_LABELS = ("nvidia.com/gpu.product", "cloud.google.com/gke-accelerator")
NOTEBOOK_LABELS = {
    "notebook-name": None,
    "component": "singleuser-server",
    "app.kubernetes.io/component": "singleuser-server",
}
NOTEBOOK_OWNER_KINDS = {"Notebook"}
KUBEFLOW_ACTIVITY = "notebooks.kubeflow.org/last-activity"

log = logging.getLogger("aifinops")


def is_notebook(pod: dict[str, Any]) -> bool:
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    for key, value in NOTEBOOK_LABELS.items():
        if key in labels and (value is None or labels[key] == value):
            return True
    if any(o.get("kind") in NOTEBOOK_OWNER_KINDS for o in meta.get("ownerReferences") or []):
        return True
    images = " ".join(c.get("image", "") for c in (pod.get("spec") or {}).get("containers") or [])
    return "jupyter" in images.lower()


def owner_of(pod: dict[str, Any]) -> tuple[str, str]:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller", True):
            return str(ref.get("kind", "")), str(ref.get("name", ""))
    return "", ""


def gpu_containers_finished(pod: dict[str, Any]) -> Any:
    """When every GPU container has terminated while the pod still runs (a sidecar keeps it up),
    the time the last one finished; else None."""
    spec = pod.get("spec") or {}
    gpu_names = {c.get("name") for c in spec.get("containers") or [] if kc.container_gpus(c)[0]}
    if not gpu_names:
        return None
    statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    finished = []
    for name in gpu_names:
        terminated = ((statuses.get(name) or {}).get("state") or {}).get("terminated")
        if not terminated:
            return None
        finished.append(parse_time(terminated.get("finishedAt")))
    known = [f for f in finished if f is not None]
    return max(known) if known else None


def job_finished(job: dict[str, Any]) -> Any:
    status = job.get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return parse_time(status.get("completionTime") or cond.get("lastTransitionTime"))
    return None


def _machine(node: dict[str, Any] | None) -> tuple[str, ...]:
    """The cloud machine behind a node, so a cloud scanner's finding on it is not counted twice."""
    key = overlap.from_provider_id(((node or {}).get("spec") or {}).get("providerID", ""))
    return (key,) if key else ()


class KubernetesGpuScanner(Scanner):
    name = "k8s.gpu"
    provider = "k8s"
    description = (
        "Kubernetes GPU nodes with no GPU pods, pods holding GPUs they do not use (DCGM via "
        "Prometheus), notebooks and finished jobs still holding GPUs; cloud and on-prem"
    )
    kinds = ("k8s.node", "k8s.pod")
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "k8s.node": (
            "accelerator_resource",
            "age_days",
            "cluster",
            "dcgm",
            "gpu_allocatable",
            "gpu_count_basis",
            "gpu_hourly_usd",
            "gpu_idle",
            "gpu_physical",
            "gpu_pods",
            "gpu_product",
            "gpu_requested",
            "gpu_sharing",
            "gpu_util_avg_pct",
            "gpu_util_max_pct",
            "idle_gpu_monthly_usd",
            "instance_type",
            "lookback_days",
            "node_pool",
            "price_basis",
            "provider_id",
            "ready",
            "unschedulable",
            *RIGHTSIZE_FIELDS,
        ),
        "k8s.pod": (
            "accelerator_resource",
            "age_days",
            "cluster",
            "dcgm",
            "gpu_activity_metric",
            "gpu_containers_terminated",
            "gpu_mem_peak_gb",
            "gpu_share",
            "gpu_util_avg_pct",
            "gpu_util_max_pct",
            "gpus",
            "job_complete",
            "last_activity_hours",
            "lookback_days",
            "namespace",
            "node",
            "notebook",
            "phase",
            "price_basis",
            "started_at",
            "work_ended_hours",
            "workload",
            "workload_kind",
        ),
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        check_settings(ctx.config.section("kubernetes"))
        done = K8sProvider.scan_scopes(ctx, self.name, self._cluster, name=lambda target: target.name)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    # --- one cluster ------------------------------------------------------------------------

    def _cluster(self, target: kc.Target) -> ScopeItems:
        from kubernetes import client

        unpriced: list[dict[str, str]] = []  # this cluster's nodes without a price

        ctx = self.context
        settings = ctx.config.section("kubernetes")
        api_client = target.make_client()
        listing = kc.Listing.for_scan(ctx)
        try:
            core = client.CoreV1Api(api_client)
            listing.nodes = kc.list_all(core.list_node, listing)
            problems: list[str] = []
            gpu_nodes: dict[str, dict[str, Any]] = {}
            for n in listing.nodes:
                allocatable = (n.get("status") or {}).get("allocatable")
                bad = kc.malformed_gpus(allocatable)
                if bad:  # a device plugin or a hand edit wrote something that is not a count
                    problems.append(
                        f"node {n['metadata']['name']}: allocatable {', '.join(bad)} is not "
                        "a whole number of devices, node not judged"
                    )
                if kc.gpu_count(allocatable)[0] > 0:
                    gpu_nodes[n["metadata"]["name"]] = n
            if not gpu_nodes:
                note = f"{len(listing.nodes)} nodes, none with GPUs"
                if problems:
                    note = f"{note}; " + "; ".join(problems)
                return ScopeItems([], note, bool(problems))
            listing.pods = kc.list_all(
                core.list_pod_for_all_namespaces, listing, field_selector=kc.NOT_TERMINAL
            )
            gpu_pods = [(p, *kc.pod_gpus(p)) for p in listing.pods]
            gpu_pods = [(p, n, r) for p, n, r in gpu_pods if n > 0 and (p.get("spec") or {}).get("nodeName")]
            if any(owner_of(p)[0] == "Job" for p, _, _ in gpu_pods):
                try:
                    jobs = kc.list_all(client.BatchV1Api(api_client).list_job_for_all_namespaces, listing)
                    listing.jobs = {
                        (j["metadata"].get("namespace", ""), j["metadata"]["name"]): j for j in jobs
                    }
                except kc.expected_errors() as exc:
                    problems.append(f"jobs not listed: {kc.explain(exc)}")
        finally:
            api_client.close()
        usage: GpuUsage | None = None
        prom_url = (settings.get("prometheus_urls") or {}).get(target.name) or ctx.settings(
            "k8s"
        ).prometheus_url
        dcgm_note = (
            "GPU utilisation not available (no --prometheus-url, nor kubernetes.prometheus_urls "
            "for this context)"
        )
        if prom_url:
            try:
                usage = gpu_usage(
                    prom_url,
                    ctx.options.lookback_days,
                    ctx.now,
                    selector=str(settings.get("dcgm_selector", "")),
                    timeout=ctx.options.limits.read_timeout,
                )
            except PrometheusError as exc:
                dcgm_note = "GPU utilisation not read"
                problems.append(f"GPU utilisation not read: {exc}")
            else:

                def key(p: dict[str, Any]) -> tuple[str, str]:
                    return p["metadata"].get("namespace", ""), p["metadata"]["name"]

                attribute(
                    usage, {key(p) for p, _, _ in gpu_pods}, {key(p) for p in listing.pods}, set(gpu_nodes)
                )
                dcgm_note, dcgm_problem = _dcgm_note(usage, len(gpu_pods))
                if dcgm_problem:
                    problems.append(dcgm_problem)
        shapes: dict[str, GpuShape] = {}
        rates: dict[str, NodeRate | None] = {}
        for name, node in gpu_nodes.items():
            labels = node["metadata"].get("labels") or {}
            devices = kc.gpu_count(node["status"].get("allocatable"))[0]
            shapes[name], label_problems = gpu_shape(labels, devices)
            problems.extend(f"node {name}: {p}" for p in label_problems)
            provider_id = (node.get("spec") or {}).get("providerID", "")
            rates[name] = node_rate(ctx.prices, settings, labels, provider_id, shapes[name])
            if rates[name] is None:
                unpriced.append(
                    {
                        "scanner": self.name,
                        "resource_id": f"{target.name}/{name}",
                        "sku": unpriced_sku(labels, provider_id),
                    }
                )
        requested: dict[str, int] = {}
        held: dict[str, float] = {}  # physical GPUs' worth requested per node
        pod_count: dict[str, int] = {}
        for _pod, gpus, res in gpu_pods:
            node_name = _pod["spec"]["nodeName"]
            requested[node_name] = requested.get(node_name, 0) + gpus
            shape = shapes.get(node_name)
            if shape is not None:
                share = gpu_equivalents(gpus, res, gpu_nodes[node_name], shape.devices_per_gpu)
                held[node_name] = held.get(node_name, 0.0) + share
            pod_count[node_name] = pod_count.get(node_name, 0) + 1
        out = [
            self._node(
                target.name,
                node,
                requested.get(name, 0),
                held.get(name, 0.0),
                pod_count.get(name, 0),
                rates[name],
                shapes[name],
                usage,
            )
            for name, node in gpu_nodes.items()
        ]
        out.extend(
            self._pod(
                target.name,
                pod,
                gpus,
                resource,
                rates.get(pod["spec"]["nodeName"]),
                gpu_nodes.get(pod["spec"]["nodeName"]),
                listing.jobs,
                usage,
            )
            for pod, gpus, resource in gpu_pods
        )
        note = (
            f"{len(listing.nodes)} nodes ({len(gpu_nodes)} with GPUs), {len(listing.pods)} running pods "
            f"({len(gpu_pods)} holding GPUs); {listing.calls} list calls; {dcgm_note}"
        )
        if problems:
            note = f"{note}; " + "; ".join(problems)
        return ScopeItems(out, note, bool(problems), unpriced)

    def _node(
        self,
        cluster: str,
        node: dict[str, Any],
        requested: int,
        held: float,
        pods: int,
        rate: NodeRate | None,
        shape: GpuShape,
        usage: GpuUsage | None,
    ) -> Observation:
        ctx = self.context
        meta = node["metadata"]
        labels = meta.get("labels") or {}
        gpus, resource = kc.gpu_count(node["status"].get("allocatable"))
        idle = max(gpus - requested, 0)
        lines = ()
        metrics: dict[str, float | None] = {
            "gpu_allocatable": float(gpus),
            "gpu_requested": float(requested),
            "gpu_idle": float(idle),
            "gpu_pods": float(pods),
            "gpu_physical": float(shape.physical),
            "age_days": age_days(parse_time(meta.get("creationTimestamp")), ctx.now, 2),
        }
        if rate is not None:
            line = rate.node_line(gpus, f"node {meta['name']} ({rate.basis})")
            lines = (line,)
            metrics["gpu_hourly_usd"] = round(rate.per_gpu_hourly_usd, 6)
            # the physical GPUs' worth nobody holds (devices / devices per GPU, MIG slices by
            # their share): (devices - requested) / devices for a node of one device kind
            free = max(shape.physical - held, 0.0) / shape.physical if shape.physical else idle / gpus
            metrics["idle_gpu_monthly_usd"] = round(line.monthly_usd * free, 6)
        node_usage = (usage.nodes.get(meta["name"]) if usage else None) or {}
        activity_metric = (usage.node_metric.get(meta["name"], "") if usage else "") or ""
        metrics["gpu_util_avg_pct"] = node_usage.get("avg")
        metrics["gpu_util_max_pct"] = node_usage.get("max")
        metrics["gpu_mem_peak_gb"] = node_usage.get("mem_peak_gb")
        metrics["gpu_mem_peak_per_gpu_gb"] = node_usage.get("mem_peak_per_gpu_gb")
        spec = node.get("spec") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (node.get("status") or {}).get("conditions") or []
        )
        instance_type = next(
            (
                labels[k]
                for k in ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
                if k in labels
            ),
            "",
        )
        rs_attrs = _rightsize(
            ctx.prices,
            labels,
            spec.get("providerID", ""),
            instance_type,
            rate,
            shape,
            node_usage,
            activity_metric,
            metrics,
        )
        if node_usage.get("mem_total_gb") is not None:
            metrics["gpu_mem_total_gb"] = node_usage["mem_total_gb"]
        return Observation(
            provider="k8s",
            kind="k8s.node",
            id=meta["name"],
            covers=_machine(node),
            account=cluster,
            region=labels.get("topology.kubernetes.io/region", ""),
            name=meta["name"],
            tags=labels,
            owner=ctx.config.owner_from_tags(labels),
            metrics=metrics,
            attributes={
                "cluster": cluster,
                "accelerator_resource": resource,
                "gpu_sharing": shape.sharing,
                "gpu_count_basis": shape.basis,
                "gpu_product": next((labels[k] for k in PRODUCT_LABELS if k in labels), ""),
                "instance_type": instance_type,
                "node_pool": next((labels[k] for k in POOL_LABELS if k in labels), ""),
                "provider_id": spec.get("providerID", ""),
                "price_basis": rate.basis if rate else "unpriced",
                "unschedulable": bool(spec.get("unschedulable")),
                "ready": ready,
                "dcgm": bool(node_usage),
                **rs_attrs,
                "gpu_activity_metric": activity_metric,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=lines,
            unpriced=() if rate else (unpriced_sku(labels, spec.get("providerID", "")),),
            evidence=(
                f"snapshot: {requested} of {gpus} {resource} requested by {pods} pods"
                + (
                    f"; DCGM over {ctx.options.lookback_days} days: max {node_usage.get('max')}% "
                    f"({activity_metric or 'no activity counter'})"
                    + (
                        f", peak GPU memory {node_usage['mem_peak_gb']:g} GB"
                        if node_usage.get("mem_peak_gb") is not None
                        else ""
                    )
                    if node_usage
                    else ""
                ),
            ),
        )

    def _pod(
        self,
        cluster: str,
        pod: dict[str, Any],
        gpus: int,
        resource: str,
        rate: NodeRate | None,
        node: dict[str, Any] | None,
        jobs: dict[tuple[str, str], dict[str, Any]],
        usage: GpuUsage | None,
    ) -> Observation:
        ctx = self.context
        meta = pod["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        labels = meta.get("labels") or {}
        kind, owner_name = owner_of(pod)
        started = parse_time((pod.get("status") or {}).get("startTime") or meta.get("creationTimestamp"))
        ended_at = []
        job = jobs.get((ns, owner_name)) if kind == "Job" else None
        job_done = job_finished(job) if job else None
        if job_done is not None:
            ended_at.append(job_done)
        containers_done = gpu_containers_finished(pod)
        if containers_done is not None:
            ended_at.append(containers_done)
        pod_usage = (usage.pods.get((ns, name)) if usage else None) or {}
        pod_metric = (usage.pod_metric.get((ns, name), "") if usage else "") or ""
        activity = parse_time((meta.get("annotations") or {}).get(KUBEFLOW_ACTIVITY))
        metrics: dict[str, float | None] = {
            "gpus": float(gpus),
            "age_days": age_days(started, ctx.now, 2),
            "gpu_util_avg_pct": pod_usage.get("avg"),
            "gpu_util_max_pct": pod_usage.get("max"),
            "work_ended_hours": age_hours(min(ended_at), ctx.now) if ended_at else None,
            "last_activity_hours": age_hours(activity, ctx.now),
            "gpu_mem_peak_gb": pod_usage.get("mem_peak_gb"),
        }
        lines = ()
        if rate is not None:
            node_name = pod["spec"]["nodeName"]
            share_of = gpu_equivalents(gpus, resource, node or {}, rate.devices_per_gpu)
            if gpus and share_of:
                rate = replace(rate, devices_per_gpu=gpus / share_of)
            per = rate.devices_per_gpu
            share = f" = {gpus / per:g} physical GPU(s)" if per != 1 else ""
            lines = (rate.gpu_line(gpus, f"{gpus} {resource}{share} on node {node_name} ({rate.basis})"),)
            metrics["gpu_share"] = round(gpus / per, 6)
        notebook = is_notebook(pod)
        return Observation(
            provider="k8s",
            kind="k8s.pod",
            id=f"{ns}/{name}",
            covers=_machine(node),
            account=cluster,
            region=(((node or {}).get("metadata") or {}).get("labels") or {}).get(
                "topology.kubernetes.io/region", ""
            ),
            name=name,
            tags=labels,
            owner=ctx.config.owner_from_tags(labels) or ns,
            metrics=metrics,
            attributes={
                "cluster": cluster,
                "namespace": ns,
                "node": pod["spec"]["nodeName"],
                "phase": (pod.get("status") or {}).get("phase", ""),
                "workload_kind": kind,
                "workload": owner_name,
                "notebook": notebook,
                "job_complete": job_done is not None,
                "gpu_containers_terminated": containers_done is not None,
                "accelerator_resource": resource,
                "dcgm": bool(pod_usage),
                "gpu_activity_metric": pod_metric,
                "price_basis": rate.basis if rate else "unpriced",
                "started_at": started.isoformat() if started else None,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=lines,
            unpriced=()
            if rate
            else (
                unpriced_sku(
                    ((node or {}).get("metadata") or {}).get("labels") or {},
                    ((node or {}).get("spec") or {}).get("providerID", ""),
                ),
            ),
        )


def gpu_equivalents(gpus: int, resource: str, node: dict[str, Any], devices_per_gpu: float) -> float:
    """Physical GPUs' worth of `gpus` devices of `resource` on `node`: a MIG device (mixed
    strategy, nvidia.com/mig-<n>g.<m>gb) is n compute slices of the card (1/7 of an A100, 1/4 of
    an A30: pricing/data/gpu_models.yaml); a whole GPU beside MIG devices on a mixed node is one
    GPU; otherwise devices / the node's devices per GPU (MIG single, time-slicing replicas)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    if "/mig-" in resource:
        share = mig_share(resource, labels.get(GPU_PRODUCT_LABEL, ""))
        if share is not None:
            return gpus * share
    if str(labels.get(MIG_STRATEGY_LABEL, "")).strip().lower() == "mixed":
        return float(gpus)
    return gpus / devices_per_gpu if devices_per_gpu else float(gpus)


def _rightsize(
    prices: Any,
    labels: dict[str, str],
    provider_id: str,
    instance_type: str,
    rate: NodeRate | None,
    shape: GpuShape,
    node_usage: dict[str, float],
    activity_metric: str,
    metrics: dict[str, float | None],
) -> dict[str, Any]:
    """`gpu-rightsize` inputs for a cloud node priced at its instance type's catalog rate (GPUs
    included), with DCGM memory and activity, and not shared (MIG or time-slicing: the node's
    users, not its size, are the question there)."""
    cloud = cloud_of(provider_id)
    region = next((labels[k] for k in REGION_LABELS if labels.get(k)), "")
    hourly = None
    if (
        rate is not None
        and not shape.sharing
        and rate.basis.startswith(("aws.ec2:", "gcp.compute:"))
        and "+" not in rate.basis  # N1 + attached GPUs: not an instance type of the GPU map
    ):
        hourly = rate.node_hourly_usd
    need = None
    peak, per_gpu, top = (
        node_usage.get("mem_peak_gb"),
        node_usage.get("mem_peak_per_gpu_gb"),
        node_usage.get("max"),
    )
    if peak is not None and per_gpu is not None and top is not None:
        need = GpuNeed(per_gpu, peak, top, activity_metric)
    rs_metrics, attrs = rightsize_metrics(prices, cloud, region, instance_type, hourly, need)
    metrics.update({k: v for k, v in rs_metrics.items() if metrics.get(k) is None})
    return attrs


def _dcgm_note(usage: GpuUsage, gpu_pods: int) -> tuple[str, str]:
    """The coverage note on DCGM, and a problem when its series name none of the GPU pods."""
    forms = ", ".join(f"{n} via {form}" for form, n in sorted(usage.pod_label_forms.items()))
    counter = (
        f"{usage.engine_series} with {ENGINE_METRIC}, the rest {METRIC}"
        if usage.engine_series
        else f"{METRIC}; no {ENGINE_METRIC}"
    )
    note = f"GPU utilisation from DCGM ({usage.series} GPU series: {counter}"
    if usage.mig_series:
        note += f"; {usage.mig_series} MIG instances"
    if forms:
        note += f"; pods matched: {forms}"
    if usage.pod_series_unmatched:
        note += f"; {usage.pod_series_unmatched} series name no pod running in this cluster now"
    note += ")"
    if gpu_pods and not usage.pod_label_forms:
        seen = f" (e.g. {usage.unmatched_example})" if usage.unmatched_example else ""
        return note, (
            f"DCGM series name none of the {gpu_pods} running GPU pods by pod/namespace or "
            f"exported_pod/exported_namespace{seen}: pod utilisation unknown; check that "
            "dcgm-exporter runs with DCGM_EXPORTER_KUBERNETES=true and the scrape keeps its labels"
        )
    return note, ""
