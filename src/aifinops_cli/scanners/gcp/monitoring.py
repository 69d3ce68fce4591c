"""Cloud Monitoring `projects.timeSeries.list` over REST, batched per project.

The google-cloud-monitoring library only ships a gRPC transport; we call the same v3 REST method
with the same Application Default Credentials (an `AuthorizedSession`), which keeps one
transport for every GCP call and lets tests and the demo answer it from a local HTTP server.

Every query asks the server to align the series per day (`alignmentPeriod=86400s`), so a
14-day window is at most 14 points per series; instances are selected with
`resource.labels.instance_id = one_of(...)` in chunks, never one call per instance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aifinops_cli.core.plugin import ScanContext
from aifinops_cli.scanners.gcp.common import GcpAccess, bound_session

DAY_SECONDS = 86400
IDS_PER_QUERY = 100
PAGE_SIZE = 10000

CPU_METRIC = "compute.googleapis.com/instance/cpu/utilization"  # fraction 0..1, every VM
GPU_METRIC = "agent.googleapis.com/gpu/utilization"  # percent 0..100, Ops Agent only
# bytes, Ops Agent only; one series per GPU (`gpu_number`, `model`, `uuid`) and `memory_state`
# (used / free): the peak of "used" is what a smaller GPU must hold
GPU_MEMORY_METRIC = "agent.googleapis.com/gpu/memory/bytes_used"
BYTES_PER_GB = 1024.0**3
GKE_REQUEST_METRIC = "kubernetes.io/container/accelerator/request"  # devices per container
GKE_DUTY_METRIC = "kubernetes.io/container/accelerator/duty_cycle"  # percent 0..100
VERTEX_PREDICTIONS_METRIC = "aiplatform.googleapis.com/prediction/online/prediction_count"  # DELTA
TPU_DUTY_METRIC = "tpu.googleapis.com/accelerator/duty_cycle"  # percent 0..100, per accelerator
TPU_CPU_METRIC = "tpu.googleapis.com/cpu/utilization"  # percent 0..100, per TPU VM worker


def rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, now: datetime, days: int) -> Window:
        end = now.replace(minute=0, second=0, microsecond=0)
        return cls(end - timedelta(days=days), end)


class Monitoring:
    """A thin REST client for timeSeries.list; raises google.api_core exceptions on errors."""

    def __init__(self, acc: GcpAccess, ctx: ScanContext | None = None) -> None:
        """With `ctx`, every request has the scan's (connect, read) timeouts and none is sent
        after the scan deadline (`common.bound_session`)."""
        from google.auth.transport.requests import AuthorizedSession

        self.base = acc.endpoints["monitoring"]
        self.session = AuthorizedSession(acc.credentials)
        if ctx is not None:
            bound_session(self.session, ctx)
        self.calls = 0

    def list_time_series(self, project: str, params: dict[str, str]) -> Iterable[dict[str, Any]]:
        from google.api_core import exceptions as gexc

        url = f"{self.base}/v3/projects/{project}/timeSeries"
        token = ""
        while True:
            query = dict(params, pageSize=str(PAGE_SIZE))
            if token:
                query["pageToken"] = token
            self.calls += 1
            response = self.session.get(url, params=query, timeout=60)
            if response.status_code >= 400:
                raise gexc.from_http_response(response)
            body = response.json()
            yield from body.get("timeSeries", [])
            token = body.get("nextPageToken", "")
            if not token:
                return

    def daily(
        self,
        project: str,
        metric: str,
        resource_filter: str,
        window: Window,
        aligner: str,
        reducer: str = "",
        group_by: Iterable[str] = (),
    ) -> Iterable[dict[str, Any]]:
        params = {
            "filter": f'metric.type = "{metric}" AND {resource_filter}',
            "interval.startTime": rfc3339(window.start),
            "interval.endTime": rfc3339(window.end),
            "aggregation.alignmentPeriod": f"{DAY_SECONDS}s",
            "aggregation.perSeriesAligner": aligner,
            "view": "FULL",
        }
        if reducer:
            params["aggregation.crossSeriesReducer"] = reducer
            groups = list(group_by)
            if groups:
                params["aggregation.groupByFields"] = groups  # type: ignore[assignment]
        return self.list_time_series(project, params)


def point_value(point: dict[str, Any]) -> float | None:
    value = point.get("value", {})
    for key in ("doubleValue", "int64Value"):
        if key in value:
            return float(value[key])  # int64 arrives as a JSON string
    return None


def series_values(series: dict[str, Any]) -> list[float]:
    return [v for v in (point_value(p) for p in series.get("points", [])) if v is not None]


def label(series: dict[str, Any], name: str) -> str:
    """A label from wherever the API put it: resource, metric, or (grouped) system metadata."""
    for holder in (
        series.get("resource", {}).get("labels", {}),
        series.get("metric", {}).get("labels", {}),
        series.get("metadata", {}).get("systemLabels", {}),
    ):
        if name in holder:
            return str(holder[name])
    return ""


def _one_of(ids: list[str]) -> str:
    return "one_of(" + ",".join(f'"{i}"' for i in ids) + ")"


def instance_utilisation(
    mon: Monitoring, project: str, instance_ids: list[str], window: Window
) -> dict[str, dict[str, float | None]]:
    """Daily CPU mean and max for the instances (all VMs have them), and the Ops Agent's GPU
    utilisation and GPU memory used where it is installed. Five calls (plus pages) per 100
    instances."""
    cpu_mean: dict[str, list[float]] = defaultdict(list)
    cpu_max: dict[str, list[float]] = defaultdict(list)
    gpu_mean: dict[str, list[float]] = defaultdict(list)
    gpu_max: dict[str, list[float]] = defaultdict(list)
    mem_max: dict[str, dict[str, float]] = defaultdict(dict)  # instance -> gpu_number -> bytes
    for first in range(0, len(instance_ids), IDS_PER_QUERY):
        chunk = instance_ids[first : first + IDS_PER_QUERY]
        where = f'resource.type = "gce_instance" AND resource.labels.instance_id = {_one_of(chunk)}'
        for metric, aligner, into, scale in (
            (CPU_METRIC, "ALIGN_MEAN", cpu_mean, 100.0),
            (CPU_METRIC, "ALIGN_MAX", cpu_max, 100.0),
            (GPU_METRIC, "ALIGN_MEAN", gpu_mean, 1.0),
            (GPU_METRIC, "ALIGN_MAX", gpu_max, 1.0),
        ):
            for series in mon.daily(project, metric, where, window, aligner):
                into[label(series, "instance_id")].extend(v * scale for v in series_values(series))
        for series in mon.daily(project, GPU_MEMORY_METRIC, where, window, "ALIGN_MAX"):
            if label(series, "memory_state") not in ("", "used"):
                continue
            values = series_values(series)
            if values:
                per_gpu = mem_max[label(series, "instance_id")]
                gpu = label(series, "gpu_number") or label(series, "uuid")
                per_gpu[gpu] = max(per_gpu.get(gpu, 0.0), max(values))
    out: dict[str, dict[str, float | None]] = {}
    for iid in instance_ids:
        days = len(cpu_mean.get(iid, []))
        # daily means are per GPU; the mean of all GPU-days is the instance's mean
        g_mean, g_max = gpu_mean.get(iid, []), gpu_max.get(iid, [])
        out[iid] = {
            "metric_days": float(days),
            "cpu_avg_pct": round(sum(cpu_mean[iid]) / days, 2) if days else None,
            "cpu_max_pct": round(max(cpu_max[iid]), 2) if cpu_max.get(iid) else None,
            "gpu_util_avg_pct": round(sum(g_mean) / len(g_mean), 2) if g_mean else None,
            "gpu_util_max_pct": round(max(g_max), 2) if g_max else None,
        }
        peaks = [b / BYTES_PER_GB for b in mem_max.get(iid, {}).values()]
        if peaks:
            out[iid]["gpu_mem_peak_gb"] = round(sum(peaks), 3)
            out[iid]["gpu_mem_peak_per_gpu_gb"] = round(max(peaks), 3)
    return out


def gke_node_gpu_activity(
    mon: Monitoring, project: str, window: Window
) -> dict[tuple[str, str], dict[str, float | None]]:
    """Per (cluster, node): the largest number of GPUs requested by containers on any day, and
    the highest daily GPU duty cycle. Two calls (plus pages) per project, grouped server-side."""
    groups = ("resource.labels.cluster_name", "metadata.system_labels.node_name")
    requested: dict[tuple[str, str], list[float]] = defaultdict(list)
    duty: dict[tuple[str, str], list[float]] = defaultdict(list)
    where = 'resource.type = "k8s_container"'
    for series in mon.daily(project, GKE_REQUEST_METRIC, where, window, "ALIGN_MAX", "REDUCE_SUM", groups):
        requested[(label(series, "cluster_name"), label(series, "node_name"))].extend(series_values(series))
    for series in mon.daily(project, GKE_DUTY_METRIC, where, window, "ALIGN_MAX", "REDUCE_MAX", groups):
        duty[(label(series, "cluster_name"), label(series, "node_name"))].extend(series_values(series))
    out: dict[tuple[str, str], dict[str, float | None]] = {}
    for key in set(requested) | set(duty):
        out[key] = {
            "gpu_requests_max": max(requested[key]) if requested.get(key) else None,
            "gpu_duty_cycle_max_pct": max(duty[key]) if duty.get(key) else None,
        }
    return out


def vertex_predictions(mon: Monitoring, project: str, window: Window) -> dict[str, float]:
    """Online predictions per endpoint id over the window: one grouped call (plus pages) per
    project, summed per day server-side. An endpoint that served nothing has no series at all,
    so it is absent here (zero predictions)."""
    out: dict[str, float] = defaultdict(float)
    where = 'resource.type = "aiplatform.googleapis.com/Endpoint"'
    for series in mon.daily(
        project,
        VERTEX_PREDICTIONS_METRIC,
        where,
        window,
        "ALIGN_SUM",
        "REDUCE_SUM",
        ("resource.labels.endpoint_id",),
    ):
        out[label(series, "endpoint_id")] += sum(series_values(series))
    return dict(out)


TPU_VM_WORKER = "tpu.googleapis.com/GceTpuWorker"  # TPU VMs: labels resource_container, location, worker_id
TPU_NODE_WORKER = "tpu_worker"  # TPU Nodes (the older architecture): labels project_id, zone, node_id


@dataclass
class TpuActivity:
    """Daily TensorCore duty cycle and worker CPU, per TPU node where the series name it
    (`tpu_worker` carries `node_id`) and per zone for TPU VMs (`GceTpuWorker` series carry only
    the zone and a worker id, which the TPU API does not map to a node)."""

    by_node: dict[str, dict[str, float | None]]
    by_zone: dict[str, dict[str, float | None]]


def _summary(d_max: list[float], d_mean: list[float], c_max: list[float]) -> dict[str, float | None]:
    return {
        "metric_days": float(max(len(d_max), len(c_max))),
        "duty_cycle_max_pct": round(max(d_max), 2) if d_max else None,
        "duty_cycle_avg_pct": round(sum(d_mean) / len(d_mean), 2) if d_mean else None,
        "cpu_max_pct": round(max(c_max), 2) if c_max else None,
    }


def tpu_activity(mon: Monitoring, project: str, window: Window) -> TpuActivity:
    """Five grouped calls (plus pages) per project: duty cycle max and mean of TPU VM workers per
    zone, of TPU Node workers per node, and the TPU Node workers' CPU per node. A zone's maximum
    bounds every TPU VM in it: under the threshold, each of them is idle."""
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for resource, key in ((TPU_VM_WORKER, "location"), (TPU_NODE_WORKER, "node_id")):
        where = f'resource.type = "{resource}"'
        groups = (f"resource.labels.{key}",)
        queries = [
            (TPU_DUTY_METRIC, "ALIGN_MAX", "REDUCE_MAX", "duty_max"),
            (TPU_DUTY_METRIC, "ALIGN_MEAN", "REDUCE_MEAN", "duty_mean"),
        ]
        if resource == TPU_NODE_WORKER:
            queries.append((TPU_CPU_METRIC, "ALIGN_MAX", "REDUCE_MAX", "cpu_max"))
        table = out.setdefault(key, {})
        for metric, aligner, reducer, into in queries:
            for series in mon.daily(project, metric, where, window, aligner, reducer, groups):
                row = table.setdefault(label(series, key), {"duty_max": [], "duty_mean": [], "cpu_max": []})
                row[into].extend(series_values(series))

    def summarise(table: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float | None]]:
        return {k: _summary(v["duty_max"], v["duty_mean"], v["cpu_max"]) for k, v in table.items()}

    return TpuActivity(by_node=summarise(out.get("node_id", {})), by_zone=summarise(out.get("location", {})))
