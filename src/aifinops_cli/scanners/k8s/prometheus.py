"""GPU utilisation per pod and per node from DCGM exporter metrics, in one Prometheus query.

NVIDIA's dcgm-exporter publishes `DCGM_FI_DEV_GPU_UTIL` (percent, per GPU) labelled with the pod,
namespace and container the GPU is assigned to (`exported_pod` / `exported_namespace` when the
scrape config renames clashing labels) and the host (`Hostname`, or `node` / `kubernetes_node`
added by relabelling). We ask for the window's average and maximum per GPU in a single instant
query: two `*_over_time` vectors tagged with a label and joined with `or`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

METRIC = "DCGM_FI_DEV_GPU_UTIL"
STAT_LABEL = "aifinops_stat"
POD_LABELS = ("pod", "exported_pod", "pod_name")
NAMESPACE_LABELS = ("namespace", "exported_namespace")
NODE_LABELS = ("node", "kubernetes_node", "Hostname", "hostname")


class PrometheusError(Exception):
    """Prometheus could not be queried (unreachable, error status, bad answer)."""


def query_text(days: int, selector: str = "") -> str:
    sel = f"{METRIC}{{{selector}}}" if selector else METRIC
    window = f"{days}d"
    return (f'label_replace(avg_over_time({sel}[{window}]), "{STAT_LABEL}", "avg", "", "") or '
            f'label_replace(max_over_time({sel}[{window}]), "{STAT_LABEL}", "max", "", "")')


@dataclass
class GpuUsage:
    """Average and maximum utilisation (percent) per pod and per node over the window."""

    pods: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (ns, pod)
    nodes: dict[str, dict[str, float]] = field(default_factory=dict)
    series: int = 0


def _first(labels: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((labels[k] for k in keys if labels.get(k)), "")


def parse(result: list[dict[str, Any]]) -> GpuUsage:
    """Vector samples -> per-pod and per-node (mean of the GPUs' averages, max of their maxima)."""
    pod_vals: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    node_vals: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    usage = GpuUsage()
    for sample in result:
        labels = sample.get("metric", {})
        stat = labels.get(STAT_LABEL)
        if stat not in ("avg", "max"):
            continue
        try:
            value = float(sample["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if value != value:  # NaN
            continue
        usage.series += stat == "avg"
        pod, ns = _first(labels, POD_LABELS), _first(labels, NAMESPACE_LABELS)
        if pod:
            pod_vals[(ns, pod)][stat].append(value)
        node = _first(labels, NODE_LABELS)
        if node:
            node_vals[node][stat].append(value)

    def fold(vals: dict[str, list[float]]) -> dict[str, float]:
        out = {}
        if vals.get("avg"):
            out["avg"] = round(sum(vals["avg"]) / len(vals["avg"]), 2)
        if vals.get("max"):
            out["max"] = round(max(vals["max"]), 2)
        return out

    usage.pods = {k: fold(v) for k, v in pod_vals.items()}
    usage.nodes = {k: fold(v) for k, v in node_vals.items()}
    return usage


def gpu_usage(url: str, days: int, at: datetime, selector: str = "", timeout: float = 60.0,
              headers: dict[str, str] | None = None) -> GpuUsage:
    """One instant query at `at` covering the last `days` days."""
    endpoint = url.rstrip("/") + "/api/v1/query"
    try:
        response = requests.post(endpoint, data={"query": query_text(days, selector),
                                                 "time": f"{at.timestamp():.3f}"},
                                 timeout=timeout, headers=headers or {})
    except requests.RequestException as exc:
        raise PrometheusError(f"cannot reach Prometheus at {url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        raise PrometheusError(
            f"Prometheus at {url} answered HTTP {response.status_code} without JSON") from None
    if response.status_code >= 400 or body.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url} answered {response.status_code}: "
                              f"{body.get('errorType', '')} {body.get('error', '')}".strip())
    return parse(body.get("data", {}).get("result", []))
