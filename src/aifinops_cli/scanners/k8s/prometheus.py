"""GPU utilisation per pod and per node from DCGM exporter metrics, in one Prometheus query.

NVIDIA's dcgm-exporter publishes `DCGM_FI_DEV_GPU_UTIL` (percent, per GPU) labelled with the pod,
namespace and container the GPU is assigned to (`exported_pod` / `exported_namespace` when
Prometheus scrapes with honorLabels: false and keeps its own target labels under the plain names)
and the host (`Hostname`, or `node` / `kubernetes_node` added by relabelling).
We ask for the window's average and maximum per GPU in a single instant
query: two `*_over_time` vectors tagged with a label and joined with `or`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from aifinops_cli.errors import AifinopsError

METRIC = "DCGM_FI_DEV_GPU_UTIL"
STAT_LABEL = "aifinops_stat"
# (namespace label, pod label) pairs, in the order tried. dcgm-exporter labels each GPU with the
# pod it is assigned to as `namespace`/`pod`; a scrape with honorLabels: false (the gpu-operator
# ServiceMonitor default) keeps the target's own labels there (the exporter pod in gpu-operator)
# and renames the exporter's to `exported_namespace`/`exported_pod`.
POD_LABEL_PAIRS = (("namespace", "pod"), ("exported_namespace", "exported_pod"), ("namespace", "pod_name"))
NODE_LABELS = ("node", "kubernetes_node", "Hostname", "hostname", "exported_node")


class PrometheusError(AifinopsError):
    """Prometheus could not be queried (unreachable, error status, bad answer)."""


def query_text(days: int, selector: str = "") -> str:
    sel = f"{METRIC}{{{selector}}}" if selector else METRIC
    window = f"{days}d"
    return (
        f'label_replace(avg_over_time({sel}[{window}]), "{STAT_LABEL}", "avg", "", "") or '
        f'label_replace(max_over_time({sel}[{window}]), "{STAT_LABEL}", "max", "", "")'
    )


@dataclass(frozen=True)
class Sample:
    """One GPU series' window statistic and every pod/node it may be naming."""

    stat: str  # avg | max
    value: float
    pods: tuple[tuple[str, str, str], ...]  # (label form, namespace, pod), in POD_LABEL_PAIRS order
    nodes: tuple[str, ...]


@dataclass
class GpuUsage:
    """Average and maximum utilisation (percent) per pod and per node over the window.

    `samples` are as Prometheus answered; `attribute` resolves them against the pods and nodes
    the API server listed, filling `pods`, `nodes` and what could not be matched."""

    samples: list[Sample] = field(default_factory=list)
    pods: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (ns, pod)
    nodes: dict[str, dict[str, float]] = field(default_factory=dict)
    series: int = 0
    pod_label_forms: dict[str, int] = field(default_factory=dict)  # label form -> series matched
    pod_series_unmatched: int = 0  # series naming a pod, none of whose names is a listed pod
    unmatched_example: str = ""


def _fold(vals: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    if vals.get("avg"):
        out["avg"] = round(sum(vals["avg"]) / len(vals["avg"]), 2)
    if vals.get("max"):
        out["max"] = round(max(vals["max"]), 2)
    return out


def parse(result: list[dict[str, Any]]) -> GpuUsage:
    """Vector samples -> `Sample`s (pods and nodes not yet resolved; see `attribute`)."""
    usage = GpuUsage()
    for item in result:
        labels = item.get("metric", {})
        stat = labels.get(STAT_LABEL)
        if stat not in ("avg", "max"):
            continue
        try:
            value = float(item["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if value != value:  # NaN
            continue
        usage.series += stat == "avg"
        pods = tuple(
            (f"{ns_key}/{pod_key}", labels.get(ns_key, ""), labels[pod_key])
            for ns_key, pod_key in POD_LABEL_PAIRS
            if labels.get(pod_key)
        )
        nodes = tuple(labels[k] for k in NODE_LABELS if labels.get(k))
        usage.samples.append(Sample(stat, value, pods, nodes))
    return usage


def attribute(
    usage: GpuUsage, gpu_pods: set[tuple[str, str]], listed_pods: set[tuple[str, str]], node_names: set[str]
) -> GpuUsage:
    """Per pod and per node (mean of the GPUs' averages, max of their maxima).

    A series belongs to the first of its (namespace, pod) pairs that is a GPU pod the API server
    listed. Failing that, a series whose pairs all name other listed pods (the exporter itself,
    under honorLabels: false) is a GPU assigned to no pod; one with a pair naming no listed pod
    is counted as unmatched (a pod that ended in the window, or labels this scanner cannot read).
    A node is the first node label naming a listed node, else the first.
    """
    pod_vals: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    node_vals: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    forms: dict[str, int] = defaultdict(int)
    unmatched = 0
    for s in usage.samples:
        hit = next(((form, ns, pod) for form, ns, pod in s.pods if (ns, pod) in gpu_pods), None)
        if hit is not None:
            pod_vals[(hit[1], hit[2])][s.stat].append(s.value)
            forms[hit[0]] += s.stat == "avg"
        elif any((ns, pod) not in listed_pods for _, ns, pod in s.pods):
            unmatched += s.stat == "avg"
            if not usage.unmatched_example:
                usage.unmatched_example = ", ".join(f"{f}={ns}/{pod}" for f, ns, pod in s.pods)
        node = next((n for n in s.nodes if n in node_names), s.nodes[0] if s.nodes else "")
        if node:
            node_vals[node][s.stat].append(s.value)
    usage.pods = {k: _fold(v) for k, v in pod_vals.items()}
    usage.nodes = {k: _fold(v) for k, v in node_vals.items()}
    usage.pod_label_forms = dict(forms)
    usage.pod_series_unmatched = unmatched
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
    if response.status_code >= 400 or body.get("status") != "success":
        raise PrometheusError(
            f"Prometheus at {url} answered {response.status_code}: "
            f"{body.get('errorType', '')} {body.get('error', '')}".strip()
        )
    return parse(body.get("data", {}).get("result", []))
