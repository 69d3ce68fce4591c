"""GPU activity and memory per pod and per node from DCGM exporter metrics, in one Prometheus query.

NVIDIA's dcgm-exporter publishes, per GPU (or per MIG instance, labelled `GPU_I_PROFILE` such as
"1g.10gb" and `GPU_I_ID`), with the GPU's `gpu`, `UUID`, `device`, `modelName` and `Hostname`:
- `DCGM_FI_PROF_GR_ENGINE_ACTIVE`: ratio 0..1 of time the graphics/compute engine was busy (a
  profiling counter; sees MIG instances; what OpenCost moved to);
- `DCGM_FI_DEV_GPU_UTIL`: percent 0..100 of time any kernel ran (one trickling kernel reads as
  busy; blind to MIG), used where the engine counter is not published;
- `DCGM_FI_DEV_FB_USED` / `DCGM_FI_DEV_FB_FREE`: frame-buffer memory in MiB.
The pod, namespace and container the GPU is assigned to are labels too (`exported_pod` /
`exported_namespace` when Prometheus scrapes with honorLabels: false and keeps its own target
labels under the plain names), and the host (`Hostname`, or `node` / `kubernetes_node` added by
relabelling). One instant query asks for every window statistic, each `*_over_time` vector
tagged with a label and joined with `or`. A GPU's memory is max(FB_USED) + min(FB_FREE) over
the window (used + free is constant).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from aifinops_cli.errors import AifinopsError

METRIC = "DCGM_FI_DEV_GPU_UTIL"  # percent 0..100
ENGINE_METRIC = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"  # ratio 0..1
FB_USED_METRIC = "DCGM_FI_DEV_FB_USED"  # MiB
FB_FREE_METRIC = "DCGM_FI_DEV_FB_FREE"  # MiB
MIB_PER_GB = 1024.0
STAT_LABEL = "aifinops_stat"
# stat label -> (metric, *_over_time function)
STATS = {
    "engine_avg": (ENGINE_METRIC, "avg"),
    "engine_max": (ENGINE_METRIC, "max"),
    "avg": (METRIC, "avg"),
    "max": (METRIC, "max"),
    "fbused_max": (FB_USED_METRIC, "max"),
    "fbfree_min": (FB_FREE_METRIC, "min"),
}
MIG_PROFILE_LABEL = "GPU_I_PROFILE"
MIG_ID_LABEL = "GPU_I_ID"
# (namespace label, pod label) pairs, in the order tried. dcgm-exporter labels each GPU with the
# pod it is assigned to as `namespace`/`pod`; a scrape with honorLabels: false (the gpu-operator
# ServiceMonitor default) keeps the target's own labels there (the exporter pod in gpu-operator)
# and renames the exporter's to `exported_namespace`/`exported_pod`.
POD_LABEL_PAIRS = (("namespace", "pod"), ("exported_namespace", "exported_pod"), ("namespace", "pod_name"))
NODE_LABELS = ("node", "kubernetes_node", "Hostname", "hostname", "exported_node")


class PrometheusError(AifinopsError):
    """Prometheus could not be queried (unreachable, error status, bad answer)."""


def query_text(days: int, selector: str = "") -> str:
    window = f"{days}d"
    parts = []
    for stat, (metric, fn) in STATS.items():
        sel = f"{metric}{{{selector}}}" if selector else metric
        parts.append(f'label_replace({fn}_over_time({sel}[{window}]), "{STAT_LABEL}", "{stat}", "", "")')
    return " or ".join(parts)


@dataclass(frozen=True)
class Sample:
    """One GPU series' window statistic and every pod/node it may be naming."""

    stat: str  # a key of STATS
    value: float
    pods: tuple[tuple[str, str, str], ...]  # (label form, namespace, pod), in POD_LABEL_PAIRS order
    nodes: tuple[str, ...]
    series: tuple[tuple[str, str], ...] = ()  # the series' labels but the stat: one GPU or MIG instance
    mig_profile: str = ""


@dataclass
class GpuUsage:
    """Activity (percent: average `avg`, maximum `max`) and memory (`mem_peak_gb` summed over
    the GPUs, `mem_peak_per_gpu_gb` of the busiest, `mem_total_gb`) per pod and per node over
    the window; `metric` says which counter the activity came from.

    `samples` are as Prometheus answered; `attribute` resolves them against the pods and nodes
    the API server listed, filling `pods`, `nodes` and what could not be matched."""

    samples: list[Sample] = field(default_factory=list)
    pods: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (ns, pod)
    nodes: dict[str, dict[str, float]] = field(default_factory=dict)
    series: int = 0
    engine_series: int = 0
    mig_series: int = 0
    pod_metric: dict[tuple[str, str], str] = field(default_factory=dict)
    node_metric: dict[str, str] = field(default_factory=dict)
    pod_label_forms: dict[str, int] = field(default_factory=dict)  # label form -> series matched
    pod_series_unmatched: int = 0  # series naming a pod, none of whose names is a listed pod
    unmatched_example: str = ""


def _fold(vals: dict[str, Any]) -> tuple[dict[str, float], str]:
    """One pod's or node's series -> activity (engine counter when any series has it, else
    utilisation) and memory; and the metric the activity came from."""
    out: dict[str, float] = {}
    metric = ""
    engine = bool(vals.get("engine_max") or vals.get("engine_avg"))
    avg_key, max_key, scale = ("engine_avg", "engine_max", 100.0) if engine else ("avg", "max", 1.0)
    if vals.get(avg_key):
        out["avg"] = round(sum(vals[avg_key]) / len(vals[avg_key]) * scale, 2)
        metric = ENGINE_METRIC if engine else METRIC
    if vals.get(max_key):
        out["max"] = round(max(vals[max_key]) * scale, 2)
        metric = ENGINE_METRIC if engine else METRIC
    used: dict[Any, float] = vals.get("fbused_max_by") or {}
    free: dict[Any, float] = vals.get("fbfree_min_by") or {}
    if used:
        out["mem_peak_gb"] = round(sum(used.values()) / MIB_PER_GB, 3)
        out["mem_peak_per_gpu_gb"] = round(max(used.values()) / MIB_PER_GB, 3)
        if set(used) <= set(free):
            out["mem_total_gb"] = round(sum(used[k] + free[k] for k in used) / MIB_PER_GB, 3)
    return out, metric


def _add(into: dict[str, Any], s: Sample) -> None:
    if s.stat in ("fbused_max", "fbfree_min"):
        into.setdefault(f"{s.stat}_by", {})[s.series] = s.value
    else:
        into.setdefault(s.stat, []).append(s.value)


def parse(result: list[dict[str, Any]]) -> GpuUsage:
    """Vector samples -> `Sample`s (pods and nodes not yet resolved; see `attribute`)."""
    usage = GpuUsage()
    seen: set[tuple[tuple[str, str], ...]] = set()
    engine: set[tuple[tuple[str, str], ...]] = set()
    mig: set[tuple[tuple[str, str], ...]] = set()
    for item in result:
        if not isinstance(item, dict) or not isinstance(item.get("metric", {}), dict):
            continue
        labels = item.get("metric", {})
        stat = labels.get(STAT_LABEL)
        if stat not in STATS:
            continue
        try:
            value = float(item["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if value != value:  # NaN
            continue
        pods = tuple(
            (f"{ns_key}/{pod_key}", labels.get(ns_key, ""), labels[pod_key])
            for ns_key, pod_key in POD_LABEL_PAIRS
            if labels.get(pod_key)
        )
        nodes = tuple(labels[k] for k in NODE_LABELS if labels.get(k))
        series = tuple(sorted((k, str(v)) for k, v in labels.items() if k != STAT_LABEL))
        usage.samples.append(Sample(stat, value, pods, nodes, series, str(labels.get(MIG_PROFILE_LABEL, ""))))
        if stat in ("avg", "max", "engine_avg", "engine_max"):
            seen.add(series)
            if stat.startswith("engine"):
                engine.add(series)
            if labels.get(MIG_PROFILE_LABEL):
                mig.add(series)
    usage.series, usage.engine_series, usage.mig_series = len(seen), len(engine), len(mig)
    return usage


def attribute(
    usage: GpuUsage, gpu_pods: set[tuple[str, str]], listed_pods: set[tuple[str, str]], node_names: set[str]
) -> GpuUsage:
    """Per pod and per node (mean of the GPUs' averages, max of their maxima, memory summed
    over the GPUs' peaks).

    A series belongs to the first of its (namespace, pod) pairs that is a GPU pod the API server
    listed. Failing that, a series whose pairs all name other listed pods (the exporter itself,
    under honorLabels: false) is a GPU assigned to no pod; one with a pair naming no listed pod
    is counted as unmatched (a pod that ended in the window, or labels this scanner cannot read).
    A node is the first node label naming a listed node, else the first.
    """
    pod_vals: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    node_vals: dict[str, dict[str, Any]] = defaultdict(dict)
    forms: dict[str, set[Any]] = defaultdict(set)
    unmatched: set[Any] = set()
    for s in usage.samples:
        hit = next(((form, ns, pod) for form, ns, pod in s.pods if (ns, pod) in gpu_pods), None)
        if hit is not None:
            _add(pod_vals[(hit[1], hit[2])], s)
            forms[hit[0]].add(s.series)
        elif any((ns, pod) not in listed_pods for _, ns, pod in s.pods):
            unmatched.add(s.series)
            if not usage.unmatched_example:
                usage.unmatched_example = ", ".join(f"{f}={ns}/{pod}" for f, ns, pod in s.pods)
        node = next((n for n in s.nodes if n in node_names), s.nodes[0] if s.nodes else "")
        if node:
            _add(node_vals[node], s)
    for key, vals in pod_vals.items():
        usage.pods[key], usage.pod_metric[key] = _fold(vals)
    for name, vals in node_vals.items():
        usage.nodes[name], usage.node_metric[name] = _fold(vals)
    usage.pod_label_forms = {form: len(series) for form, series in forms.items()}
    usage.pod_series_unmatched = len(unmatched)
    return usage


def gpu_usage(
    url: str,
    days: int,
    at: datetime,
    selector: str = "",
    timeout: float = 60.0,
    headers: dict[str, str] | None = None,
) -> GpuUsage:
    """One instant query at `at` covering the last `days` days."""
    endpoint = url.rstrip("/") + "/api/v1/query"
    try:
        response = requests.post(
            endpoint,
            data={"query": query_text(days, selector), "time": f"{at.timestamp():.3f}"},
            timeout=timeout,
            headers=headers or {},
        )
    except requests.RequestException as exc:
        raise PrometheusError(f"cannot reach Prometheus at {url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        raise PrometheusError(
            f"Prometheus at {url} answered HTTP {response.status_code} without JSON"
        ) from None
    if not isinstance(body, dict):
        raise PrometheusError(
            f"Prometheus at {url} answered HTTP {response.status_code} with JSON that is not an "
            f"object ({type(body).__name__}): not a Prometheus API response"
        )
    if response.status_code >= 400 or body.get("status") != "success":
        raise PrometheusError(
            f"Prometheus at {url} answered {response.status_code}: "
            f"{body.get('errorType', '')} {body.get('error', '')}".strip()
        )
    data = body.get("data")
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        raise PrometheusError(f"Prometheus at {url} answered without a result vector (data.result)")
    return parse(result)
