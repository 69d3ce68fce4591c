"""Reaching clusters and listing what the GPU scanner reads: nodes, pods and jobs.

A cluster is a kubeconfig context (`--kube-context`, repeatable; else the current context) or,
when the scanner runs inside a pod with no kubeconfig, the in-cluster service account. The
kubeconfig file is `K8sSettings.kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`.

Only list calls are made, paginated with `limit`/`continue` (500 items a page), and the raw JSON
is read without the client's model deserialisation (`_preload_content=False`): for 10,000 pods
that is the difference between well under a second and many seconds.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aifinops_cli.core.plugin import ScanContext, ScannerError

PAGE_LIMIT = 500
# Every request's (connect, read) timeout and a cluster's retries come from the scan's limits
# (config `scan:`, `ScanContext.options.limits`), so a dead API server cannot hang the scan.
CLUSTERROLE_DOC = "docs/permissions/k8s-clusterrole.yaml"
GPU_RESOURCES = (
    "nvidia.com/gpu",
    "amd.com/gpu",
    "aws.amazon.com/neuron",
    "aws.amazon.com/neurondevice",
    "google.com/tpu",
    "habana.ai/gaudi",
    "gpu.intel.com/i915",
)
# MIG devices under the device plugin's `mixed` strategy: one resource per profile
# (nvidia.com/mig-1g.10gb, nvidia.com/mig-3g.40gb, ...), priced as their share of the card
MIG_RESOURCE = re.compile(r"nvidia\.com/mig-\d+g\.\d+gb")
NOT_TERMINAL = "status.phase!=Succeeded,status.phase!=Failed"


@dataclass(frozen=True)
class Target:
    """One cluster to scan and how to build an API client for it."""

    name: str
    make_client: Callable[[], Any]


def kubeconfig_path(explicit: str | None) -> str | None:
    """K8sSettings.kubeconfig, else the first of $KUBECONFIG, else ~/.kube/config if present."""
    if explicit:
        return str(explicit)
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return env.split(os.pathsep)[0]
    default = Path.home() / ".kube" / "config"
    return str(default) if default.is_file() else None


def targets(ctx: ScanContext) -> list[Target]:
    from kubernetes import client, config

    settings = ctx.settings("k8s")
    retries = ctx.options.limits.max_attempts - 1  # urllib3's: tries after the first, per request
    path = kubeconfig_path(settings.kubeconfig)
    in_cluster = settings.in_cluster or (
        not settings.contexts
        and (path is None or not Path(path).is_file())
        and "KUBERNETES_SERVICE_HOST" in os.environ
    )
    if in_cluster:

        def make_in_cluster() -> Any:
            configuration = client.Configuration()
            configuration.retries = retries
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)

        return [Target("in-cluster", make_in_cluster)]
    if path is None or not Path(path).is_file():
        raise ScannerError(
            "no kubeconfig found: set KUBECONFIG, create ~/.kube/config (e.g. "
            "`aws eks update-kubeconfig` or `gcloud container clusters get-credentials`),"
            " or run inside the cluster"
        )
    names = list(dict.fromkeys(settings.contexts))
    if not names:
        try:
            _, current = config.list_kube_config_contexts(config_file=path)
        except (config.ConfigException, OSError, ValueError) as exc:
            raise ScannerError(f"cannot read kubeconfig {path}: {exc}") from None
        if not current:
            raise ScannerError(f"kubeconfig {path} has no current context: pass --kube-context")
        names = [current["name"]]

    def maker(name: str) -> Callable[[], Any]:
        def make() -> Any:
            configuration = client.Configuration()
            configuration.retries = retries
            return config.new_client_from_config(
                config_file=path, context=name, persist_config=False, client_configuration=configuration
            )

        return make

    return [Target(name, maker(name)) for name in names]


class DeadlineReached(TimeoutError):
    """No list page is requested after the scan deadline (the cluster is reported timed out)."""


@dataclass
class Listing:
    """What one cluster's lists returned, and the limits its requests run under."""

    timeout: tuple[float, float]  # (connect, read) seconds: `Limits.http_timeout`
    expired: Callable[[], bool] = lambda: False  # the scan deadline has passed
    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    calls: int = 0

    @classmethod
    def for_scan(cls, ctx: ScanContext) -> Listing:
        return cls(ctx.options.limits.http_timeout, ctx.expired)


def list_all(call: Callable[..., Any], counter: Listing, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a list endpoint, page by page; restarts once if a continue token expires."""
    from kubernetes.client.exceptions import ApiException

    items: list[dict[str, Any]] = []
    token: str | None = None
    restarted = False
    while True:
        if counter.expired():
            raise DeadlineReached("scan deadline reached before the next list page was requested")
        counter.calls += 1
        try:
            response = call(
                limit=PAGE_LIMIT,
                _continue=token,
                _preload_content=False,
                _request_timeout=counter.timeout,
                **kwargs,
            )
        except ApiException as exc:
            if exc.status == 410 and not restarted:  # continue token expired: list again
                items, token, restarted = [], None, True
                continue
            raise
        body = json.loads(response.data)
        if not isinstance(body, dict) or not isinstance(body.get("items") or [], list):
            raise ValueError(f"not a Kubernetes list: {str(body)[:100]}")
        items.extend(body.get("items") or [])
        token = (body.get("metadata") or {}).get("continue") or None
        if not token:
            return items


def gpu_quantity(raw: Any) -> int | None:
    """A device count as Kubernetes writes extended resources: a plain whole number ("8").
    Anything else ("8Gi", "abc", "0.5") is not a number of devices: None."""
    text = str(raw).strip()
    return int(text) if text.isdigit() else None


def malformed_gpus(resources: dict[str, Any] | None) -> list[str]:
    """The accelerator entries of a resource map that are not whole numbers, e.g. 'nvidia.com/gpu="8Gi"'."""
    mig = sorted(k for k in (resources or {}) if MIG_RESOURCE.fullmatch(str(k)))
    return [
        f'{key}="{(resources or {})[key]}"'
        for key in (*GPU_RESOURCES, *mig)
        if (resources or {}).get(key) not in (None, "") and gpu_quantity((resources or {})[key]) is None
    ]


def gpu_count(resources: dict[str, Any] | None) -> tuple[int, str]:
    """Accelerators in a resource map (allocatable, requests, limits): (count, resource name).
    Malformed quantities count as none here; callers report them (see `malformed_gpus`)."""
    total, name = 0, ""
    mig = sorted(k for k in (resources or {}) if MIG_RESOURCE.fullmatch(str(k)))
    for key in (*GPU_RESOURCES, *mig):
        count = gpu_quantity((resources or {}).get(key, ""))
        if count:
            total += count
            name = name or key
    return total, name


def container_gpus(container: dict[str, Any]) -> tuple[int, str]:
    """Extended resources must request what they limit; a limit alone implies the request."""
    res = container.get("resources") or {}
    requested = gpu_count(res.get("requests"))
    return requested if requested[0] else gpu_count(res.get("limits"))


def pod_gpus(pod: dict[str, Any]) -> tuple[int, str]:
    """What the scheduler reserves: max(sum of app containers, largest init container)."""
    spec = pod.get("spec") or {}
    app = [container_gpus(c) for c in spec.get("containers") or []]
    init = [container_gpus(c) for c in spec.get("initContainers") or []]
    total = sum(n for n, _ in app)
    biggest = max((n for n, _ in init), default=0)
    name = next((r for n, r in app + init if n), "")
    return max(total, biggest), name


def explain(exc: BaseException, context: str = "") -> str:
    """One line: what failed and what to do."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config import ConfigException

    where = f"{context}: " if context else ""
    if isinstance(exc, ApiException):
        reason = ""
        try:
            reason = json.loads(exc.body or "{}").get("message", "")
        except (TypeError, ValueError):
            reason = str(exc.reason or "")
        if exc.status == 403:
            return (
                f"{where}forbidden (403): {reason}; apply the read-only ClusterRole in "
                f"{CLUSTERROLE_DOC} (get/list/watch on nodes, pods, jobs)"
            )
        if exc.status == 401:
            return (
                f"{where}unauthorised (401): the credentials of this context are missing or "
                "expired; refresh them (e.g. `aws eks update-kubeconfig`, `gcloud container "
                "clusters get-credentials`, `kubectl config view`)"
            )
        return f"{where}API server answered {exc.status} {exc.reason}: {reason}".rstrip(": ")
    if isinstance(exc, ConfigException):
        return f"{where}kubeconfig problem: {exc}"
    import urllib3

    if isinstance(exc, DeadlineReached):
        return f"{where}timed out: the scan deadline (--timeout) passed before this finished"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason  # what the last try met
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return (
            f"{where}read timed out: the API server sent no answer within the read timeout "
            "(config scan.read_timeout sets it)"
        )
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return f"{where}timed out connecting to the API server"
    if isinstance(exc, ValueError):  # UnicodeDecodeError and JSONDecodeError included
        return (
            f"{where}unreadable answer from the API server (not the JSON Kubernetes returns): "
            f"{str(exc)[:200]}"
        )
    if isinstance(exc, urllib3.exceptions.HTTPError):
        return f"{where}cannot reach the API server: {type(exc).__name__}: {exc}"
    return f"{where}{type(exc).__name__}: {exc}"


def expected_errors() -> tuple[type[BaseException], ...]:
    import urllib3
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config import ConfigException

    return (ApiException, ConfigException, urllib3.exceptions.HTTPError, OSError, ValueError)


# --- what the Kubernetes provider's fan-out asks of this module (core/plugin.py Provider.failures) ----
def scopes(ctx: ScanContext) -> list[Target]:
    return targets(ctx)


def explain_failure(exc: BaseException, scope: str) -> str:
    return explain(exc, scope)
