"""A local stand-in for Kubernetes API servers and a Prometheus with DCGM exporter metrics.

Used by the tests, the benchmark and `--demo`. One HTTP server on 127.0.0.1 hosts several
clusters under `/clusters/NAME` (a kubeconfig `server:` may carry a path), answering the list
endpoints the scanner uses with the real JSON (`NodeList`, `PodList`, `JobList`, with `limit` /
`continue` paging and the `status.phase!=` field selector) and `403 Forbidden` `Status` objects
for a cluster whose credentials may not list. `/prometheus/api/v1/query` answers instant
queries of the form the scanner sends (`label_replace(<fn>_over_time(<DCGM metric>[<w>]),
"aifinops_stat", "<stat>", "", "")` joined with `or`) with a `vector` result, one sample per
GPU or MIG instance and statistic, labelled as dcgm-exporter labels them (`gpu`, `UUID`,
`device`, `modelName`, `Hostname`, `GPU_I_PROFILE` / `GPU_I_ID` on MIG instances, the pod's
`namespace`/`pod`/`container`). Every request is recorded so tests can count list calls.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from aifinops_cli.demo.fakes import server as fakeserver


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_json(
    name: str,
    *,
    gpus: int = 0,
    resource: str = "nvidia.com/gpu",
    labels: dict[str, str] | None = None,
    provider_id: str = "",
    created: datetime,
    cpu: str = "8",
    memory: str = "32Gi",
) -> dict[str, Any]:
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "95Gi"}
    if gpus:
        allocatable[resource] = str(gpus)
    doc: dict[str, Any] = {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
            "creationTimestamp": _ts(created),
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **(labels or {})},
        },
        "spec": {},
        "status": {
            "capacity": dict(allocatable),
            "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {"kubeletVersion": "v1.30.4", "containerRuntimeVersion": "containerd://1.7.20"},
        },
    }
    if provider_id:
        doc["spec"]["providerID"] = provider_id
    return doc


def pod_json(
    namespace: str,
    name: str,
    node: str,
    *,
    gpus: int = 0,
    resource: str = "nvidia.com/gpu",
    phase: str = "Running",
    started: datetime,
    labels: dict[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    image: str = "registry.local/app:1.0",
    terminated_at: datetime | None = None,
    sidecar: bool = False,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    resources: dict[str, Any] = {"requests": {"cpu": "500m", "memory": "1Gi"}}
    if gpus:
        resources["requests"][resource] = str(gpus)
        resources["limits"] = {resource: str(gpus)}
    containers = [{"name": "main", "image": image, "resources": resources}]
    statuses: list[dict[str, Any]] = [
        {
            "name": "main",
            "image": image,
            "ready": terminated_at is None,
            "restartCount": 0,
            "state": (
                {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": _ts(started),
                        "finishedAt": _ts(terminated_at),
                    }
                }
                if terminated_at
                else {"running": {"startedAt": _ts(started)}}
            ),
        }
    ]
    if sidecar:
        containers.append(
            {"name": "istio-proxy", "image": "istio/proxyv2:1.22", "resources": {"requests": {"cpu": "100m"}}}
        )
        statuses.append(
            {
                "name": "istio-proxy",
                "image": "istio/proxyv2:1.22",
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": _ts(started)}},
            }
        )
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{namespace}-{name}",
        "creationTimestamp": _ts(started),
        "labels": dict(labels or {}),
    }
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "batch/v1" if owner[0] == "Job" else "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": f"uid-{owner[1]}",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "metadata": meta,
        "spec": {"nodeName": node, "containers": containers, "restartPolicy": "Never"},
        "status": {
            "phase": phase,
            "startTime": _ts(started),
            "containerStatuses": statuses,
            "qosClass": "Burstable",
        },
    }


def job_json(namespace: str, name: str, *, completed: datetime | None, started: datetime) -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": _ts(started), "active": 0 if completed else 1}
    if completed:
        status.update(
            {
                "succeeded": 1,
                "completionTime": _ts(completed),
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": _ts(completed)},
                    {"type": "Complete", "status": "True", "lastTransitionTime": _ts(completed)},
                ],
            }
        )
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "creationTimestamp": _ts(started),
        },
        "spec": {"completions": 1, "parallelism": 1, "backoffLimit": 6},
        "status": status,
    }


@dataclass
class DcgmSeries:
    """One GPU's (or MIG instance's) DCGM counters over the window: DCGM_FI_DEV_GPU_UTIL as avg
    and max (percent; dcgm-exporter does not publish it for MIG instances), and where given
    DCGM_FI_PROF_GR_ENGINE_ACTIVE (ratio 0..1) avg and max, DCGM_FI_DEV_FB_USED max and
    DCGM_FI_DEV_FB_FREE min (MiB)."""

    node: str
    gpu: int
    avg: float
    max: float
    namespace: str = ""
    pod: str = ""
    container: str = ""
    engine_avg: float | None = None
    engine_max: float | None = None
    fb_used_max: float | None = None
    fb_free_min: float | None = None
    mig_profile: str = ""  # e.g. "1g.10gb"
    mig_id: str = ""
    model: str = "NVIDIA A100-SXM4-80GB"

    def value(self, metric: str, fn: str) -> float | None:
        """The window statistic `fn` of `metric`, or None when the exporter publishes none."""
        table: dict[tuple[str, str], float | None] = {
            ("DCGM_FI_DEV_GPU_UTIL", "avg"): None if self.mig_profile else self.avg,
            ("DCGM_FI_DEV_GPU_UTIL", "max"): None if self.mig_profile else self.max,
            ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "avg"): self.engine_avg,
            ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "max"): self.engine_max,
            ("DCGM_FI_DEV_FB_USED", "max"): self.fb_used_max,
            ("DCGM_FI_DEV_FB_FREE", "min"): self.fb_free_min,
        }
        return table.get((metric, fn))


@dataclass
class FakeCluster:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    denied: bool = False


@dataclass
class FakeK8s:
    clusters: dict[str, FakeCluster] = field(default_factory=dict)
    dcgm: list[DcgmSeries] = field(default_factory=list)
    prometheus_down: bool = False
    prometheus_body: Any = None  # when set, every Prometheus query is answered with this JSON
    # how the workload's pod reaches Prometheus: "honor" (honorLabels: true: pod/namespace),
    # "exported" (honorLabels: false: the scrape target's pod/namespace, i.e. the exporter's own,
    # win and dcgm-exporter's move to exported_pod/exported_namespace), or "renamed" (a relabel
    # config put them under names no scanner reads: k8s_pod/k8s_namespace)
    dcgm_labels: str = "honor"
    calls: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _serialised: dict[tuple[str, str], tuple[int, list[bytes]]] = field(default_factory=dict)

    def count(self, fragment: str = "") -> int:
        return sum(1 for _, path, _ in self.calls if fragment in path)


def _forbidden(resource: str, group: str = "") -> tuple[int, dict[str, Any]]:
    return 403, {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            f'{resource} is forbidden: User "system:serviceaccount:default:aifinops" '
            f'cannot list resource "{resource}" in API group "{group}" '
            "at the cluster scope"
        ),
        "reason": "Forbidden",
        "details": {"kind": resource},
        "code": 403,
    }


def _phase_ok(item: dict[str, Any], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        m = re.fullmatch(r"status\.phase(!=|==|=)(\w+)", term.strip())
        if not m:
            continue
        phase = item.get("status", {}).get("phase")
        if (m.group(1) == "!=") == (phase == m.group(2)):
            return False
    return True


def _list(
    fake: FakeK8s, cluster: str, kind: str, items: list[dict[str, Any]], query: dict[str, list[str]]
) -> bytes:
    selector = query.get("fieldSelector", [""])[0]
    key = (cluster, f"{kind}|{selector}")
    with fake.lock:  # serialise each object once; pages are then cheap slices, like an apiserver cache
        cached = fake._serialised.get(key)
        if cached is None or cached[0] != len(items):
            cached = (len(items), [json.dumps(i).encode() for i in items if _phase_ok(i, selector)])
            fake._serialised[key] = cached
        blobs = cached[1]
    limit = int(query.get("limit", ["0"])[0] or 0) or len(blobs) or 1
    start = int(query.get("continue", ["0"])[0] or 0)
    chunk = blobs[start : start + limit]
    meta: dict[str, Any] = {"resourceVersion": "48213"}
    if start + limit < len(blobs):
        meta["continue"] = str(start + limit)
        meta["remainingItemCount"] = len(blobs) - start - limit
    api = "batch/v1" if kind == "JobList" else "v1"
    head = json.dumps({"kind": kind, "apiVersion": api, "metadata": meta})[:-1].encode()
    return head + b', "items": [' + b",".join(chunk) + b"]}"


_PART = re.compile(
    r'label_replace\((avg|max|min)_over_time\((\w+)(?:\{[^}]*\})?\[\d+[smhdw]\]\),\s*"aifinops_stat",\s*"(\w+)"'
)


def _prometheus(fake: FakeK8s, query: dict[str, list[str]]) -> tuple[int, Any]:
    if fake.prometheus_down:
        return 503, {"status": "error", "errorType": "unavailable", "error": "prometheus is restarting"}
    if fake.prometheus_body is not None:
        return 200, fake.prometheus_body
    expr = query.get("query", [""])[0]
    when = float(query.get("time", ["0"])[0] or 0)
    result = []
    for fn, metric, stat in _PART.findall(expr):
        for s in fake.dcgm:
            value = s.value(metric, fn)
            if value is None:
                continue
            labels = {
                "gpu": str(s.gpu),
                "UUID": f"GPU-{s.node}-{s.gpu}",
                "device": f"nvidia{s.gpu}",
                "modelName": s.model,
                "Hostname": s.node,
                "DCGM_FI_DRIVER_VERSION": "550.90.07",
                "GPU_I_PROFILE": s.mig_profile,
                "GPU_I_ID": s.mig_id,
                "container": s.container,
                "namespace": s.namespace,
                "pod": s.pod,
                "instance": "10.0.0.5:9400",
                "job": "dcgm-exporter",
                "aifinops_stat": stat,
            }
            if fake.dcgm_labels != "honor":
                moved = {"container": s.container, "namespace": s.namespace, "pod": s.pod}
                prefix = "exported_" if fake.dcgm_labels == "exported" else "k8s_"
                labels.update({f"{prefix}{k}": v for k, v in moved.items()})
                labels.update(
                    {
                        "container": "nvidia-dcgm-exporter",
                        "namespace": EXPORTER_NAMESPACE,
                        "pod": exporter_pod(s.node),
                        "service": "nvidia-dcgm-exporter",
                        "endpoint": "gpu-metrics",
                        "job": "nvidia-dcgm-exporter",
                    }
                )
            labels = {k: v for k, v in labels.items() if v != ""}
            result.append({"metric": labels, "value": [when, repr(float(value))]})
    return 200, {"status": "success", "data": {"resultType": "vector", "result": result}}


EXPORTER_NAMESPACE = "gpu-operator"


def exporter_pod(node: str) -> str:
    """The name of the dcgm-exporter DaemonSet pod on `node` (gpu-operator's naming)."""
    return f"nvidia-dcgm-exporter-{zlib.crc32(node.encode()) % 100000:05d}"


def _route(fake: FakeK8s, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
    if path.startswith("/prometheus/api/v1/query"):
        return _prometheus(fake, query)
    m = re.fullmatch(r"/clusters/([^/]+)(/.*)", path)
    if not m or m.group(1) not in fake.clusters:
        return 404, {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "NotFound",
            "code": 404,
            "message": "the server could not find the requested resource",
        }
    name, rest = m.groups()
    cluster = fake.clusters[name]
    routes = {
        "/api/v1/nodes": ("nodes", "", "NodeList", cluster.nodes),
        "/api/v1/pods": ("pods", "", "PodList", cluster.pods),
        "/apis/batch/v1/jobs": ("jobs", "batch", "JobList", cluster.jobs),
    }
    if rest not in routes:
        return 404, {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "NotFound",
            "code": 404,
            "message": "the server could not find the requested resource",
        }
    resource, group, kind, items = routes[rest]
    if cluster.denied:
        return _forbidden(resource, group)
    return 200, _list(fake, name, kind, items, query)


def _answer(fake: FakeK8s, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
    with fake.lock:
        fake.calls.append((method, path, query))
    readonly_post = method == "POST" and path.startswith("/prometheus/api/v1/query")
    if method != "GET" and not readonly_post:
        return 405, {"kind": "Status", "code": 405, "reason": "MethodNotAllowed"}
    return _route(fake, path, query)


@contextmanager
def serve(fake: FakeK8s) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1 in a thread; yields its base URL."""
    with fakeserver.serve(partial(_answer, fake), "fake-k8s", keep_alive=True) as url:
        yield url


def write_kubeconfig(path: Path, url: str, clusters: list[str], current: str | None = None) -> Path:
    """A kubeconfig with one context per fake cluster (named like the cluster)."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": c, "cluster": {"server": f"{url}/clusters/{c}"}} for c in clusters],
        "users": [{"name": "reader", "user": {"token": "fake-token"}}],
        "contexts": [{"name": c, "context": {"cluster": c, "user": "reader"}} for c in clusters],
        "current-context": current or clusters[0],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def big_cluster(
    now: datetime, nodes: int = 500, pods: int = 10_000, gpu_nodes: int = 100, gpus_per_node: int = 8
) -> tuple[FakeCluster, list[DcgmSeries]]:
    """A deterministic large cluster for the scale test and `bench/k8s_scan.py`: `gpu_nodes`
    p4d.24xlarge nodes (a fifth of them with no GPU pod), the rest m5.2xlarge; 6 GPU pods per
    busy GPU node (half of them from Jobs, every other Job finished), the remaining pods CPU-only
    Deployment replicas spread over the CPU nodes."""
    from datetime import timedelta

    created = now - timedelta(days=40)
    started = now - timedelta(days=2)
    gpu_labels = {
        "node.kubernetes.io/instance-type": "p4d.24xlarge",
        "topology.kubernetes.io/region": "us-east-1",
        "eks.amazonaws.com/nodegroup": "gpu",
    }
    cpu_labels = {
        "node.kubernetes.io/instance-type": "m5.2xlarge",
        "topology.kubernetes.io/region": "us-east-1",
        "eks.amazonaws.com/nodegroup": "general",
    }
    cluster = FakeCluster()
    for n in range(nodes):
        gpu = n < gpu_nodes
        cluster.nodes.append(
            node_json(
                f"ip-10-0-{n // 250}-{n % 250}.ec2.internal",
                gpus=gpus_per_node if gpu else 0,
                labels=gpu_labels if gpu else cpu_labels,
                provider_id=f"aws:///us-east-1a/i-{n:017x}",
                created=created,
                cpu="96" if gpu else "8",
            )
        )
    busy = [cluster.nodes[n]["metadata"]["name"] for n in range(gpu_nodes) if n % 5 != 0]
    cpu_nodes = [cluster.nodes[n]["metadata"]["name"] for n in range(gpu_nodes, nodes)] or busy
    dcgm: list[DcgmSeries] = []
    count = 0
    for b, node in enumerate(busy):
        for slot in range(6):
            if count >= pods:
                break
            name = f"train-{b}-{slot}"
            if slot % 2 == 0:
                job = f"job-{b}-{slot}"
                done = now - timedelta(hours=3) if (b + slot) % 4 == 0 else None
                cluster.jobs.append(job_json("ml", job, completed=done, started=started))
                cluster.pods.append(pod_json("ml", name, node, gpus=1, started=started, owner=("Job", job)))
            else:
                cluster.pods.append(
                    pod_json("ml", name, node, gpus=1, started=started, owner=("ReplicaSet", f"serve-{b}"))
                )
            dcgm.append(
                DcgmSeries(
                    node, slot, 40.0 if slot % 3 else 0.5, 90.0 if slot % 3 else 2.0, "ml", name, "main"
                )
            )
            count += 1
    n = 0
    while count < pods:
        node = cpu_nodes[n % len(cpu_nodes)]
        cluster.pods.append(
            pod_json(
                f"team-{n % 40}", f"web-{n}", node, started=started, owner=("ReplicaSet", f"web-{n % 300}")
            )
        )
        n += 1
        count += 1
    return cluster, dcgm
