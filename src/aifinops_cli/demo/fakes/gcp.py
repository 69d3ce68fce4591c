"""A local stand-in for the Google Cloud REST APIs the GCP scanners read (tests and `--demo`).

It answers, on 127.0.0.1, with the JSON shapes of the real services: Compute Engine
`aggregated/instances` and `aggregated/disks` (items keyed by `zones/ZONE`, empty zones carrying a
`NO_RESULTS_ON_PAGE` warning, `nextPageToken` paging), Cloud Monitoring `timeSeries.list`
(daily-aligned points, newest first, `int64Value` as a string), GKE `clusters.list` and Resource
Manager `projects:search`, Vertex AI `projects.locations.endpoints.list` (per region), Cloud TPU
v2 `projects.locations.nodes.list` and Notebooks v2 `projects.locations.instances.list` (over
`locations/-`), and Compute Engine's global `snapshots` and `images` lists. A project listed in
`denied` answers 403 PERMISSION_DENIED like a project where the caller lacks roles. Every request
is recorded, so tests can count calls and check that only GETs were made.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aifinops_cli.demo.fakes import server as fakeserver

COMPUTE = "https://www.googleapis.com/compute/v1"


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000-00:00")


def instance_json(
    project: str,
    name: str,
    zone: str,
    machine_type: str,
    instance_id: int,
    *,
    status: str = "RUNNING",
    labels: dict[str, str] | None = None,
    accelerators: list[tuple[str, int]] | None = None,
    created: datetime,
    started: datetime | None = None,
    stopped: datetime | None = None,
    spot: bool = False,
    created_by: str = "",
) -> dict[str, Any]:
    zone_url = f"{COMPUTE}/projects/{project}/zones/{zone}"
    doc: dict[str, Any] = {
        "kind": "compute#instance",
        "id": str(instance_id),
        "creationTimestamp": _ts(created),
        "name": name,
        "machineType": f"{zone_url}/machineTypes/{machine_type}",
        "status": status,
        "zone": zone_url,
        "selfLink": f"{zone_url}/instances/{name}",
        "labels": dict(labels or {}),
        "disks": [
            {
                "kind": "compute#attachedDisk",
                "type": "PERSISTENT",
                "mode": "READ_WRITE",
                "source": f"{zone_url}/disks/{name}",
                "deviceName": "persistent-disk-0",
                "index": 0,
                "boot": True,
                "autoDelete": True,
                "diskSizeGb": "100",
            }
        ],
        "scheduling": {
            "onHostMaintenance": "TERMINATE",
            "automaticRestart": not spot,
            "preemptible": spot,
            "provisioningModel": "SPOT" if spot else "STANDARD",
        },
    }
    if started is not None:
        doc["lastStartTimestamp"] = _ts(started)
    if stopped is not None:
        doc["lastStopTimestamp"] = _ts(stopped)
    if created_by:  # managed instance group members say which group made them
        group = f"projects/123456789/zones/{zone}/instanceGroupManagers/{created_by}"
        doc["metadata"] = {
            "kind": "compute#metadata",
            "fingerprint": "abc=",
            "items": [{"key": "created-by", "value": group}],
        }
    if accelerators:
        doc["guestAccelerators"] = [
            {"acceleratorType": f"{zone_url}/acceleratorTypes/{a}", "acceleratorCount": n}
            for a, n in accelerators
        ]
    return doc


def disk_json(
    project: str,
    name: str,
    zone: str,
    disk_type: str,
    size_gb: int,
    disk_id: int,
    *,
    users: list[str] | None = None,
    labels: dict[str, str] | None = None,
    created: datetime,
    detached: datetime | None = None,
    attached: datetime | None = None,
) -> dict[str, Any]:
    zone_url = f"{COMPUTE}/projects/{project}/zones/{zone}"
    doc: dict[str, Any] = {
        "kind": "compute#disk",
        "id": str(disk_id),
        "creationTimestamp": _ts(created),
        "name": name,
        "sizeGb": str(size_gb),  # int64 fields are JSON strings
        "zone": zone_url,
        "status": "READY",
        "selfLink": f"{zone_url}/disks/{name}",
        "type": f"{zone_url}/diskTypes/{disk_type}",
        "labels": dict(labels or {}),
        "physicalBlockSizeBytes": "4096",
    }
    if users:
        doc["users"] = [f"{zone_url}/instances/{u}" for u in users]
    if detached is not None:
        doc["lastDetachTimestamp"] = _ts(detached)
    if attached is not None:
        doc["lastAttachTimestamp"] = _ts(attached)
    return doc


def node_pool_json(
    name: str,
    machine_type: str,
    *,
    accelerators: list[tuple[str, int]] | None = None,
    autoscaling: tuple[int, int] | None = None,
    node_count: int = 1,
    labels: dict[str, str] | None = None,
    groups: list[str] | None = None,
    locations: list[str] | None = None,
    spot: bool = False,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "machineType": machine_type,
        "diskSizeGb": 100,
        "diskType": "pd-balanced",
        "labels": dict(labels or {}),
    }
    if spot:
        config["spot"] = True
    if accelerators:
        config["accelerators"] = [{"acceleratorCount": str(n), "acceleratorType": a} for a, n in accelerators]
    doc: dict[str, Any] = {
        "name": name,
        "config": config,
        "initialNodeCount": node_count,
        "status": "RUNNING",
        "version": "1.30.5-gke.1014001",
    }
    if locations:  # the zones the pool's nodes run in
        doc["locations"] = list(locations)
    if groups:
        # "ZONE/NAME" -> the instance group manager URL GKE lists for the pool
        doc["instanceGroupUrls"] = [
            f"{COMPUTE}/projects/p/zones/{g.split('/')[0]}/instanceGroupManagers/{g.split('/')[1]}"
            for g in groups
        ]
    if autoscaling:
        doc["autoscaling"] = {"enabled": True, "minNodeCount": autoscaling[0], "maxNodeCount": autoscaling[1]}
    return doc


def cluster_json(
    project: str,
    name: str,
    location: str,
    pools: list[dict[str, Any]],
    labels: dict[str, str] | None = None,
    locations: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "location": location,
        "status": "RUNNING",
        "nodePools": pools,
        "resourceLabels": dict(labels or {}),
        **({"locations": locations} if locations else {}),
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}",
    }


def series_json(
    metric: str,
    metric_labels: dict[str, str],
    resource_type: str,
    resource_labels: dict[str, str],
    values: list[float],
    end: datetime,
    *,
    int_values: bool = False,
    system_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One daily-aligned series; `values` oldest first, emitted newest first as the API does."""
    points = []
    for back, value in enumerate(reversed(values)):
        stop = end - timedelta(days=back)
        val = {"int64Value": str(int(value))} if int_values else {"doubleValue": value}
        points.append(
            {
                "interval": {
                    "startTime": _ts(stop - timedelta(days=1)).replace(".000-00:00", "Z"),
                    "endTime": _ts(stop).replace(".000-00:00", "Z"),
                },
                "value": val,
            }
        )
    doc: dict[str, Any] = {
        "metric": {"type": metric, "labels": metric_labels},
        "resource": {"type": resource_type, "labels": resource_labels},
        "metricKind": "GAUGE",
        "valueType": "INT64" if int_values else "DOUBLE",
        "points": points,
    }
    if system_labels:
        doc["metadata"] = {"systemLabels": system_labels}
    return doc


def _name_ts(when: datetime) -> str:
    """Vertex AI, TPU and Notebooks write RFC 3339 with `Z` and fractional seconds."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def endpoint_json(
    project_number: str,
    location: str,
    endpoint_id: str,
    display_name: str,
    models: list[dict[str, Any]],
    *,
    created: datetime,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Vertex AI Endpoint as endpoints.list returns it (names use the project number)."""
    return {
        "name": f"projects/{project_number}/locations/{location}/endpoints/{endpoint_id}",
        "displayName": display_name,
        "deployedModels": models,
        "trafficSplit": {m["id"]: 100 // max(len(models), 1) for m in models},
        "etag": "AMEw9yN1",
        "labels": dict(labels or {}),
        "createTime": _name_ts(created),
        "updateTime": _name_ts(created),
    }


def deployed_model_json(
    model_id: str,
    display_name: str,
    machine_type: str,
    *,
    created: datetime,
    accelerator: tuple[str, int] | None = None,
    replicas: tuple[int, int] = (1, 1),
    project_number: str = "123456789012",
    location: str = "us-central1",
    spot: bool = False,
) -> dict[str, Any]:
    """A DeployedModel with dedicatedResources (machineSpec, min/max replicas)."""
    spec: dict[str, Any] = {"machineType": machine_type}
    if accelerator:
        spec["acceleratorType"], spec["acceleratorCount"] = accelerator[0], accelerator[1]
    resources: dict[str, Any] = {
        "machineSpec": spec,
        "minReplicaCount": replicas[0],
        "maxReplicaCount": replicas[1],
    }
    if spot:
        resources["spot"] = True
    return {
        "id": model_id,
        "model": f"projects/{project_number}/locations/{location}/models/{model_id}0",
        "modelVersionId": "1",
        "displayName": display_name,
        "createTime": _name_ts(created),
        "dedicatedResources": resources,
    }


def tpu_node_json(
    project: str,
    zone: str,
    name: str,
    accelerator_type: str,
    node_id: str,
    *,
    created: datetime,
    state: str = "READY",
    workers: int = 1,
    labels: dict[str, str] | None = None,
    spot: bool = False,
) -> dict[str, Any]:
    """A TPU VM node as the TPU API v2 lists it."""
    doc: dict[str, Any] = {
        "name": f"projects/{project}/locations/{zone}/nodes/{name}",
        "acceleratorType": accelerator_type,
        "state": state,
        "runtimeVersion": "tpu-ubuntu2204-base",
        "networkConfig": {
            "network": f"projects/{project}/global/networks/default",
            "enableExternalIps": True,
        },
        "serviceAccount": {"email": "default", "scope": ["https://www.googleapis.com/auth/cloud-platform"]},
        "createTime": _name_ts(created),
        "schedulingConfig": {"spot": True} if spot else {},
        "networkEndpoints": [
            {"ipAddress": f"10.128.0.{10 + w}", "port": 8470, "accessConfig": {"externalIp": f"34.1.2.{w}"}}
            for w in range(workers)
        ],
        "health": "HEALTHY",
        "labels": dict(labels or {}),
        "id": node_id,
        "apiVersion": "V2",
    }
    return doc


def workbench_json(
    project: str,
    zone: str,
    name: str,
    machine_type: str,
    *,
    created: datetime,
    state: str = "ACTIVE",
    accelerators: list[tuple[str, int]] | None = None,
    creator: str = "",
    labels: dict[str, str] | None = None,
    idle_timeout_seconds: int | None = None,
) -> dict[str, Any]:
    """A Workbench instance as the Notebooks API v2 lists it (gceSetup describes its VM)."""
    metadata: dict[str, str] = {"proxy-mode": "service_account"}
    if idle_timeout_seconds is not None:
        metadata["idle-timeout-seconds"] = str(idle_timeout_seconds)
    setup: dict[str, Any] = {
        "machineType": machine_type,
        "bootDisk": {"diskSizeGb": "150", "diskType": "PD_BALANCED"},
        "dataDisks": [{"diskSizeGb": "100", "diskType": "PD_BALANCED"}],
        "vmImage": {"project": "cloud-notebooks-managed", "family": "workbench-instances"},
        "metadata": metadata,
    }
    if accelerators:
        setup["acceleratorConfigs"] = [{"type": t, "coreCount": str(n)} for t, n in accelerators]
    return {
        "name": f"projects/{project}/locations/{zone}/instances/{name}",
        "proxyUri": f"{name}-dot-us-central1.notebooks.googleusercontent.com",
        "creator": creator,
        "state": state,
        "id": f"00000000-0000-4000-8000-{zlib.crc32(name.encode()):012d}",
        "healthState": "HEALTHY",
        "createTime": _name_ts(created),
        "updateTime": _name_ts(created),
        "labels": dict(labels or {}),
        "gceSetup": setup,
    }


def snapshot_json(
    project: str,
    name: str,
    snapshot_id: int,
    *,
    source_disk: str,
    disk_size_gb: int,
    storage_bytes: int,
    created: datetime,
    location: str = "us",
    snapshot_type: str = "STANDARD",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A snapshot as snapshots.list returns it; `source_disk` is `ZONE/NAME`."""
    zone, disk = source_disk.split("/", 1)
    return {
        "kind": "compute#snapshot",
        "id": str(snapshot_id),
        "creationTimestamp": _ts(created),
        "name": name,
        "status": "READY",
        "sourceDisk": f"{COMPUTE}/projects/{project}/zones/{zone}/disks/{disk}",
        "sourceDiskId": str(snapshot_id + 1),
        "diskSizeGb": str(disk_size_gb),
        "storageBytes": str(storage_bytes),
        "storageBytesStatus": "UP_TO_DATE",
        "storageLocations": [location],
        "snapshotType": snapshot_type,
        "labels": dict(labels or {}),
        "selfLink": f"{COMPUTE}/projects/{project}/global/snapshots/{name}",
    }


def image_json(
    project: str,
    name: str,
    image_id: int,
    *,
    source_disk: str,
    disk_size_gb: int,
    archive_size_bytes: int,
    created: datetime,
    family: str = "",
    location: str = "us",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A custom image as images.list returns it; `source_disk` is `ZONE/NAME`."""
    zone, disk = source_disk.split("/", 1)
    doc: dict[str, Any] = {
        "kind": "compute#image",
        "id": str(image_id),
        "creationTimestamp": _ts(created),
        "name": name,
        "sourceType": "RAW",
        "status": "READY",
        "archiveSizeBytes": str(archive_size_bytes),
        "diskSizeGb": str(disk_size_gb),
        "sourceDisk": f"{COMPUTE}/projects/{project}/zones/{zone}/disks/{disk}",
        "sourceDiskId": str(image_id + 1),
        "storageLocations": [location],
        "labels": dict(labels or {}),
        "selfLink": f"{COMPUTE}/projects/{project}/global/images/{name}",
    }
    if family:
        doc["family"] = family
    return doc


@dataclass
class FakeProject:
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # zone -> instances
    disks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # zone -> disks
    clusters: list[dict[str, Any]] = field(default_factory=list)
    # (metric type, aligner) -> series as the server returns them after alignment/grouping
    series: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    zones: tuple[str, ...] = ()  # zones that answer empty (with the NO_RESULTS_ON_PAGE warning)
    # zones Compute Engine cannot reach: the aggregated lists leave their items out and say
    # so with an UNREACHABLE warning in the zone's scope
    unreachable: tuple[str, ...] = ()
    gke_missing_zones: tuple[str, ...] = ()  # clusters.list `missingZones`
    endpoints: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # region -> endpoints
    tpu_nodes: list[dict[str, Any]] = field(default_factory=list)
    workbench: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeGcp:
    projects: dict[str, FakeProject] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)  # every API answers 403
    monitoring_denied: set[str] = field(default_factory=set)  # only Monitoring answers 403
    unreachable_regions: set[str] = field(default_factory=set)  # Vertex regions answering 503
    # project -> APIs not enabled there ("aiplatform", "tpu", "notebooks"): 403 SERVICE_DISABLED
    disabled: dict[str, set[str]] = field(default_factory=dict)
    page_size: int = 500  # server-side cap, to exercise paging
    calls: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, fragment: str) -> int:
        return sum(1 for _, path, _ in self.calls if fragment in path)


def _forbidden(permission: str, project: str) -> tuple[int, dict[str, Any]]:
    message = f"Required '{permission}' permission for 'projects/{project}'"
    return 403, {
        "error": {
            "code": 403,
            "message": message,
            "status": "PERMISSION_DENIED",
            "errors": [{"message": message, "domain": "global", "reason": "forbidden"}],
        }
    }


def _service_disabled(service: str, project: str) -> tuple[int, dict[str, Any]]:
    message = (
        f"{service}.googleapis.com API has not been used in project {project} before or it is "
        f"disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
        f"{service}.googleapis.com/overview?project={project} then retry."
    )
    return 403, {
        "error": {
            "code": 403,
            "message": message,
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {"service": f"{service}.googleapis.com", "consumer": f"projects/{project}"},
                }
            ],
        }
    }


def _page(items: list[Any], query: dict[str, list[str]], cap: int, size_key: str) -> tuple[list[Any], str]:
    size = min(int(query.get(size_key, [str(cap)])[0]), cap)
    start = int(query.get("pageToken", ["0"])[0] or 0)
    chunk = items[start : start + size]
    token = str(start + size) if start + size < len(items) else ""
    return chunk, token


_ONE_OF = re.compile(r"resource\.labels\.instance_id\s*=\s*one_of\(([^)]*)\)")
_METRIC = re.compile(r'metric\.type\s*=\s*"([^"]+)"')
_RESOURCE = re.compile(r'resource\.type\s*=\s*"([^"]+)"')


def _listed(items: list[Any], key: str, query: dict[str, list[str]], cap: int) -> tuple[int, dict[str, Any]]:
    """A Google REST list answer: `{key: [...], nextPageToken}`, the key left out when empty."""
    chunk, token = _page(items, query, cap, "pageSize")
    body: dict[str, Any] = {key: chunk} if chunk else {}
    if token:
        body["nextPageToken"] = token
    return 200, body


def _route(fake: FakeGcp, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
    m = re.fullmatch(r"/compute/v1/projects/([^/]+)/aggregated/(instances|disks)", path)
    if m:
        project, what = m.groups()
        if project in fake.denied or project not in fake.projects:
            return _forbidden(f"compute.{what}.list", project)
        proj = fake.projects[project]
        source = proj.instances if what == "instances" else proj.disks
        flat = [
            (zone, item)
            for zone, items in sorted(source.items())
            for item in items
            if zone not in proj.unreachable
        ]
        chunk, token = _page(flat, query, fake.page_size, "maxResults")
        items: dict[str, Any] = {}
        for zone, item in chunk:
            items.setdefault(f"zones/{zone}", {}).setdefault(what, []).append(item)
        if not token:
            for zone in proj.zones:
                items.setdefault(
                    f"zones/{zone}",
                    {
                        "warning": {
                            "code": "NO_RESULTS_ON_PAGE",
                            "message": "There are no results for scope 'zones/" + zone + "' on this page.",
                            "data": [{"key": "scope", "value": f"zones/{zone}"}],
                        }
                    },
                )
            for zone in proj.unreachable:
                items[f"zones/{zone}"] = {
                    "warning": {
                        "code": "UNREACHABLE",
                        "message": f"Scope 'zones/{zone}' is unreachable; its resources are not listed.",
                        "data": [{"key": "scope", "value": f"zones/{zone}"}],
                    }
                }
        kind = "compute#instanceAggregatedList" if what == "instances" else "compute#diskAggregatedList"
        body: dict[str, Any] = {
            "kind": kind,
            "id": f"projects/{project}/aggregated/{what}",
            "items": items,
            "selfLink": f"{COMPUTE}/projects/{project}/aggregated/{what}",
        }
        if token:
            body["nextPageToken"] = token
        return 200, body
    m = re.fullmatch(r"/compute/v1/projects/([^/]+)/global/(snapshots|images)", path)
    if m:
        project, what = m.groups()
        if project in fake.denied or project not in fake.projects:
            return _forbidden(f"compute.{what}.list", project)
        listed = getattr(fake.projects[project], what)
        chunk, token = _page(listed, query, fake.page_size, "maxResults")
        body = {"kind": f"compute#{what[:-1]}List", "id": f"projects/{project}/global/{what}", "items": chunk}
        if token:
            body["nextPageToken"] = token
        return 200, body
    m = re.fullmatch(r"/v1/projects/([^/]+)/locations/([^/]+)/endpoints", path)
    if m:
        project, location = m.groups()
        if project in fake.denied or project not in fake.projects:
            return _forbidden("aiplatform.endpoints.list", project)
        if "aiplatform" in fake.disabled.get(project, set()):
            return _service_disabled("aiplatform", project)
        if location in fake.unreachable_regions:
            return 503, {
                "error": {
                    "code": 503,
                    "message": "The service is currently unavailable.",
                    "status": "UNAVAILABLE",
                }
            }
        return _listed(fake.projects[project].endpoints.get(location, []), "endpoints", query, fake.page_size)
    m = re.fullmatch(r"/v2/projects/([^/]+)/locations/-/(nodes|instances)", path)
    if m:
        project, what = m.groups()
        if project in fake.denied or project not in fake.projects:
            return _forbidden("tpu.nodes.list" if what == "nodes" else "notebooks.instances.list", project)
        service = "tpu" if what == "nodes" else "notebooks"
        if service in fake.disabled.get(project, set()):
            return _service_disabled(service, project)
        proj = fake.projects[project]
        return _listed(proj.tpu_nodes if what == "nodes" else proj.workbench, what, query, fake.page_size)
    m = re.fullmatch(r"/v3/projects/([^/]+)/timeSeries", path)
    if m:
        project = m.group(1)
        if project in fake.denied or project in fake.monitoring_denied or project not in fake.projects:
            return _forbidden("monitoring.timeSeries.list", project)
        flt = query.get("filter", [""])[0]
        metric = _METRIC.search(flt)
        aligner = query.get("aggregation.perSeriesAligner", ["ALIGN_NONE"])[0]
        series = fake.projects[project].series.get((metric.group(1) if metric else "", aligner), [])
        kind = _RESOURCE.search(flt)
        if kind:  # series of other monitored resources are not this query's
            series = [s for s in series if s["resource"]["type"] == kind.group(1)]
        ids = _ONE_OF.search(flt)
        if ids:
            wanted = {s.strip().strip('"') for s in ids.group(1).split(",")}
            series = [s for s in series if s["resource"]["labels"].get("instance_id") in wanted]
        chunk, token = _page(series, query, fake.page_size, "pageSize")
        body = {"timeSeries": chunk, "unit": "10^2.%" if "cpu" in flt else ""} if chunk else {}
        if token:
            body["nextPageToken"] = token
        return 200, body
    m = re.fullmatch(r"/v1/projects/([^/]+)/locations/-/clusters", path)
    if m:
        project = m.group(1)
        if project in fake.denied or project not in fake.projects:
            return _forbidden("container.clusters.list", project)
        proj = fake.projects[project]
        answer: dict[str, Any] = {"clusters": proj.clusters} if proj.clusters else {}
        if proj.gke_missing_zones:
            answer["missingZones"] = list(proj.gke_missing_zones)
        return 200, answer
    if path == "/v3/projects:search":
        return 200, {
            "projects": [
                {
                    "name": f"projects/{100000 + n}",
                    "projectId": p,
                    "state": "ACTIVE",
                    "displayName": p,
                    "parent": "organizations/1234",
                }
                for n, p in enumerate(sorted(set(fake.projects) | fake.denied))
            ]
        }
    return 404, {"error": {"code": 404, "message": f"no such path {path}", "status": "NOT_FOUND"}}


def _answer(fake: FakeGcp, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
    with fake.lock:
        fake.calls.append((method, path, query))
    if method != "GET":
        return 405, {"error": {"code": 405, "message": "read-only fake", "status": "UNIMPLEMENTED"}}
    return _route(fake, path, query)


@contextmanager
def serve(fake: FakeGcp) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1 in a thread; yields its base URL."""
    with fakeserver.serve(partial(_answer, fake), "fake-gcp", "application/json; charset=UTF-8") as url:
        yield url
