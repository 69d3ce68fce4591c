"""What every Google Cloud scanner shares: credentials, endpoints, projects, error wording, and
the per-project Compute Engine inventory.

Credentials are Application Default Credentials with the read-only cloud-platform scope. Clients
use the REST transport. Endpoints can be pointed elsewhere (a local fake in tests and the demo):
`GcpSettings.endpoints[""]` or `$AIFINOPS_GCP_ENDPOINT` for every service, with
`endpoints["<service>"]` / `$AIFINOPS_GCP_<SERVICE>_ENDPOINT` per service (compute, monitoring,
container, resourcemanager, aiplatform, tpu, notebooks). An overridden endpoint is reached with
anonymous credentials.

The inventory (instances and disks of a project, from the two aggregatedList calls) is memoised
on the scan context so both GCP scanners read each project once per scan.

Clients made by `gapic_client` (and any requests session passed through `bound_session`) send
every HTTP request with the scan's connect/read timeouts, retry for at most read timeout x
attempts, and refuse to start a request after the scan deadline.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests.exceptions  # a core dependency (pyproject.toml)

from aifinops_cli.core.fanout import ScopeItems, ScopeOutcome
from aifinops_cli.core.plugin import ScanContext, ScannerError
from aifinops_cli.core.timeutil import parse_time
from aifinops_cli.scanners.gcp.provider import GcpProvider

log = logging.getLogger("aifinops")

SCOPES = ["https://www.googleapis.com/auth/cloud-platform.read-only"]
SERVICES = ("compute", "monitoring", "container", "resourcemanager", "aiplatform", "tpu", "notebooks")
DEFAULT_ENDPOINTS = {
    "compute": "https://compute.googleapis.com",
    "monitoring": "https://monitoring.googleapis.com",
    "container": "https://container.googleapis.com",
    "resourcemanager": "https://cloudresourcemanager.googleapis.com",
    "aiplatform": "https://{location}-aiplatform.googleapis.com",  # Vertex AI is served per region
    "tpu": "https://tpu.googleapis.com",
    "notebooks": "https://notebooks.googleapis.com",
}
ROLES_DOC = "docs/permissions/gcp-roles.md"

# Accelerator-optimised families: the machine type itself carries GPUs (and its price includes them).
ACCELERATOR_FAMILIES = ("a2", "a3", "a4", "g2", "g4")
_GPUS_IN_NAME = re.compile(r"-(\d+)g$")  # a2-highgpu-4g, a3-megagpu-8g
_G2_GPUS = {"g2-standard-24": 2, "g2-standard-48": 4, "g2-standard-96": 8}
_G2_DEFAULT_ACCEL = "nvidia-l4"
_FAMILY_ACCEL = {
    "a2-ultragpu": "nvidia-a100-80gb",
    "a2": "nvidia-tesla-a100",
    "a3": "nvidia-h100-80gb",
    "a4": "nvidia-b200",
    "g2": _G2_DEFAULT_ACCEL,
    "g4": "nvidia-rtx-pro-6000",
}


def last_segment(url: str) -> str:
    """`.../zones/us-central1-a/machineTypes/n1-standard-8` -> `n1-standard-8`."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


def user_key(url: str) -> str:
    """An instance URL (as in a disk's `users`) -> `ZONE/NAME`."""
    parts = url.rstrip("/").split("/")
    zone = parts[parts.index("zones") + 1] if "zones" in parts else ""
    return f"{zone}/{parts[-1]}"


def region_of_zone(zone: str) -> str:
    """`us-central1-a` -> `us-central1` (a region name is returned unchanged)."""
    parts = zone.split("-")
    return "-".join(parts[:2]) if len(parts) >= 3 else zone


def machine_family(machine_type: str) -> str:
    return machine_type.split("-", 1)[0]


def is_accelerator_optimised(machine_type: str) -> bool:
    return machine_family(machine_type) in ACCELERATOR_FAMILIES


def bundled_gpus(machine_type: str) -> tuple[str, int]:
    """GPUs that come with an accelerator-optimised machine type: (accelerator type, count)."""
    family = machine_family(machine_type)
    if family not in ACCELERATOR_FAMILIES:
        return "", 0
    accel = _FAMILY_ACCEL["a2-ultragpu"] if machine_type.startswith("a2-ultragpu") else _FAMILY_ACCEL[family]
    if family in ("g2", "g4"):
        return accel, _G2_GPUS.get(machine_type, 1)
    m = _GPUS_IN_NAME.search(machine_type)
    return accel, int(m.group(1)) if m else 1


# --- access -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GcpAccess:
    credentials: Any
    endpoints: dict[str, str]
    overridden: dict[str, bool]

    def client_options(self, service: str) -> dict[str, str] | None:
        return {"api_endpoint": self.endpoints[service]} if self.overridden[service] else None


def endpoint_overrides(endpoints: dict[str, str]) -> dict[str, str]:
    """Services pointed away from Google: GcpSettings.endpoints ("" for all) over the environment."""
    common = endpoints.get("") or os.environ.get("AIFINOPS_GCP_ENDPOINT") or ""
    out = {}
    for service in SERVICES:
        value = endpoints.get(service) or os.environ.get(f"AIFINOPS_GCP_{service.upper()}_ENDPOINT") or common
        if value:
            out[service] = str(value).rstrip("/")
    return out


def access(ctx: ScanContext) -> GcpAccess:
    """Credentials once per scan: ADC, or anonymous when every endpoint is overridden."""

    def build() -> GcpAccess:
        overrides = endpoint_overrides(ctx.settings("gcp").endpoints)
        endpoints = {s: overrides.get(s, DEFAULT_ENDPOINTS[s]) for s in SERVICES}
        overridden = {s: s in overrides for s in SERVICES}
        if all(overridden.values()):
            from google.auth.credentials import AnonymousCredentials

            return GcpAccess(AnonymousCredentials(), endpoints, overridden)
        import google.auth
        import google.auth.exceptions

        try:
            credentials, _ = google.auth.default(scopes=SCOPES)
        except google.auth.exceptions.DefaultCredentialsError:
            raise ScannerError(
                "no Google Cloud credentials found: run `gcloud auth application-default login` "
                "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
            ) from None
        return GcpAccess(credentials, endpoints, overridden)

    return ctx.memo(("gcp", "access"), build)


# --- errors -----------------------------------------------------------------------------------


def explain(exc: BaseException, where: str = "") -> str:
    """One line saying what went wrong and what to do about it."""
    from google.api_core import exceptions as gexc

    prefix = f"{where}: " if where else ""
    if isinstance(exc, gexc.RetryError):  # the retry budget (scan.read_timeout x max_attempts) ran out
        last = exc.cause
        return (
            f"{prefix}still failing when the retry budget ran out; last error: "
            f"{explain(last) if last is not None else exc.message}"
        )
    try:
        import google.auth.exceptions as aexc

        if isinstance(exc, aexc.RefreshError):
            return (
                "Google Cloud credentials could not be refreshed (expired?): run "
                "`gcloud auth application-default login` and retry"
            )
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, gexc.Unauthorized | gexc.Unauthenticated):
        return f"{prefix}not authenticated (401): run `gcloud auth application-default login`"
    if isinstance(exc, gexc.Forbidden | gexc.PermissionDenied):
        message = getattr(exc, "message", str(exc))
        if "has not been used" in message or "is disabled" in message or "accessNotConfigured" in message:
            return f"{prefix}API not enabled in this project: {message}"
        return f"{prefix}access denied (403): {message}; grant the read-only roles in {ROLES_DOC}"
    if isinstance(exc, gexc.NotFound):
        return f"{prefix}not found (404): check the project id"
    if isinstance(exc, gexc.TooManyRequests | gexc.ResourceExhausted):
        return f"{prefix}quota exceeded or throttled (429) after retries: retry later"
    if isinstance(exc, gexc.GoogleAPICallError):
        return f"{prefix}{exc.code} {getattr(exc, 'message', exc)}"
    import requests
    from google.protobuf import json_format

    if isinstance(exc, ScanDeadlineReached):
        return f"{prefix}timed out: the scan deadline (--timeout) passed before this finished"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"{prefix}timed out connecting to the Google Cloud endpoint"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return (
            f"{prefix}read timed out: the Google Cloud endpoint sent no answer within the read "
            "timeout (config scan.read_timeout sets it)"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"{prefix}cannot reach the Google Cloud endpoint (connection failed or was reset)"
    if isinstance(exc, json_format.ParseError | ValueError):
        return f"{prefix}unreadable answer from Google Cloud (not the JSON the API returns): {str(exc)[:200]}"
    return f"{prefix}{type(exc).__name__}: {exc}"


def is_fatal(exc: BaseException) -> bool:
    """Failures that every project would repeat: bad or expired credentials."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc

    return isinstance(exc, aexc.RefreshError | gexc.Unauthorized | gexc.Unauthenticated)


def expected_errors() -> tuple[type[BaseException], ...]:
    """What Google Cloud or the network can do to a call: refuse it, not answer, or answer with
    something that is not the API's JSON (the REST clients' json_format.ParseError; JSON that
    cannot be decoded, from requests or json, is a ValueError)."""
    import json

    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc
    from google.protobuf import json_format

    return (
        gexc.GoogleAPICallError,
        gexc.RetryError,
        aexc.GoogleAuthError,
        requests.exceptions.RequestException,
        json_format.ParseError,
        json.JSONDecodeError,
        UnicodeDecodeError,
    )


class ScanDeadlineReached(requests.exceptions.Timeout):
    """No request is started after the scan deadline (google retries do not retry it)."""


def bound_session(session: Any, ctx: ScanContext) -> Any:
    """Give every request of a requests session the scan's (connect, read) timeouts, at most as
    long as the caller's own, and refuse requests once the scan deadline has passed."""
    if getattr(session, "_aifinops_bound", False):
        return session
    limits = ctx.options.limits
    original = session.request

    @functools.wraps(original)
    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if ctx.expired():
            raise ScanDeadlineReached(f"scan deadline reached before {method} {url}")
        given = kwargs.get("timeout")
        read = limits.read_timeout
        if isinstance(given, int | float) and given > 0:
            read = min(read, float(given))
        kwargs["timeout"] = (limits.http_timeout[0], read)
        return original(method, url, *args, **kwargs)

    session.request = request
    session._aifinops_bound = True
    return session


def call_limits(ctx: ScanContext) -> dict[str, Any]:
    """`retry` and `timeout` for a google-cloud call: transient errors retried for at most read
    timeout x attempts, each attempt bounded by the read timeout."""
    from google.api_core import retry as gretry

    limits = ctx.options.limits
    budget = limits.read_timeout * limits.max_attempts
    return {
        "retry": gretry.Retry(predicate=gretry.if_transient_error, initial=0.5, maximum=10.0, timeout=budget),
        "timeout": limits.read_timeout,
    }


def gapic_client(ctx: ScanContext, client_cls: Any, service: str) -> Any:
    """A google-cloud client for `service` (REST transport) whose requests are bounded."""
    acc = access(ctx)
    client = client_cls(
        credentials=acc.credentials, transport="rest", client_options=acc.client_options(service)
    )
    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is not None:  # the REST transport's AuthorizedSession
        bound_session(session, ctx)
    return client


class RestList:
    """`list` methods of the Google REST APIs that have no REST client installed here (Vertex AI,
    Cloud TPU, Notebooks): GET with the scan's credentials and timeouts, following
    `nextPageToken`; an error answer raises the google.api_core exception the client libraries
    would (403 PermissionDenied, 404 NotFound, ...). Each page is retried on transient errors
    (429, 5xx, a dropped connection) within the budget the google-cloud clients get
    (`call_limits`)."""

    def __init__(self, ctx: ScanContext, service: str) -> None:
        from google.auth.transport.requests import AuthorizedSession

        acc = access(ctx)
        self.base = acc.endpoints[service]
        self.session = bound_session(AuthorizedSession(acc.credentials), ctx)
        self.retry = call_limits(ctx)["retry"]

    def url(self, path: str, location: str = "") -> str:
        return self.base.replace("{location}", location) + path

    def _page(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        from google.api_core import exceptions as gexc

        response = self.session.get(url, params=params)
        if response.status_code >= 400:
            raise gexc.from_http_response(response)
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"expected a JSON object from {url}, got {type(body).__name__}")
        return body

    def items(
        self, path: str, key: str, location: str = "", page_size: int = 500
    ) -> Iterator[dict[str, Any]]:
        token = ""
        while True:
            params = {"pageSize": str(page_size)}
            if token:
                params["pageToken"] = token
            body = self.retry(self._page)(self.url(path, location), params)
            yield from body.get(key, [])
            token = body.get("nextPageToken", "")
            if not token:
                return

    def every_location(self, project: str, collection: str) -> list[dict[str, Any]] | None:
        """A project's whole `collection` over every location (`locations/-`); None when the API
        is not enabled there (api_disabled: nothing of that service can exist)."""
        try:
            return list(self.items(f"/v2/projects/{project}/locations/-/{collection}", collection))
        except expected_errors() as exc:
            if api_disabled(exc):
                return None
            raise


def api_disabled(exc: BaseException) -> bool:
    """A 403 saying the API is not enabled in the project (SERVICE_DISABLED): nothing of that
    service can exist there, so the scanner has nothing to read rather than a failure."""
    from google.api_core import exceptions as gexc

    if not isinstance(exc, gexc.Forbidden | gexc.PermissionDenied):
        return False
    message = getattr(exc, "message", str(exc))
    return "has not been used" in message or "is disabled" in message or "SERVICE_DISABLED" in message


def accelerator_name(api_type: str) -> str:
    """Vertex / Notebooks enum spelling -> Compute Engine's: NVIDIA_TESLA_T4 -> nvidia-tesla-t4."""
    return api_type.strip().lower().replace("_", "-")


# --- projects ---------------------------------------------------------------------------------


def projects(ctx: ScanContext) -> list[str]:
    """--gcp-project if given, else every ACTIVE project the credentials can see."""
    if ctx.settings("gcp").projects:
        return list(dict.fromkeys(ctx.settings("gcp").projects))

    def fetch() -> list[str]:
        from google.cloud import resourcemanager_v3

        client = gapic_client(ctx, resourcemanager_v3.ProjectsClient, "resourcemanager")
        try:
            found = [
                p.project_id
                for p in client.search_projects(query="state:ACTIVE", **call_limits(ctx))
                if p.state == resourcemanager_v3.Project.State.ACTIVE
            ]
        except expected_errors() as exc:
            raise ScannerError(
                f"cannot list projects ({explain(exc, 'resourcemanager projects.search')}); "
                "pass --gcp-project to name them"
            ) from None
        if not found:
            raise ScannerError("the credentials see no active Google Cloud project: pass --gcp-project")
        return sorted(found)

    return ctx.memo(("gcp", "projects"), fetch)


# --- inventory --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GceInstance:
    id: str
    name: str
    zone: str
    machine_type: str
    status: str
    labels: dict[str, str]
    accelerators: tuple[tuple[str, int], ...]  # attached (N1-style) GPUs: (type, count)
    created: datetime | None
    last_start: datetime | None
    provisioning_model: str
    last_stop: datetime | None = None
    created_by: str = ""  # the managed instance group that made it (metadata `created-by`)

    @property
    def region(self) -> str:
        return region_of_zone(self.zone)

    @property
    def gpus(self) -> tuple[str, int]:
        """(accelerator type, count): attached GPUs, else the ones the machine type bundles."""
        if self.accelerators:
            return self.accelerators[0][0], sum(n for _, n in self.accelerators)
        return bundled_gpus(self.machine_type)

    @property
    def has_gpu(self) -> bool:
        return self.gpus[1] > 0


@dataclass(frozen=True)
class GceDisk:
    id: str
    name: str
    location: str  # zone, or region for regional disks
    disk_type: str
    size_gb: int
    users: tuple[str, ...]
    labels: dict[str, str]
    created: datetime | None
    last_attach: datetime | None
    last_detach: datetime | None
    status: str
    regional: bool

    @property
    def region(self) -> str:
        return self.location if self.regional else region_of_zone(self.location)


@dataclass
class ProjectInventory:
    project: str
    instances: list[GceInstance] = field(default_factory=list)
    disks: list[GceDisk] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # zones that answered with a warning


_OK_WARNINGS = {"NO_RESULTS_ON_PAGE", ""}


def _instance(inst: Any) -> GceInstance:
    accels = tuple(
        (last_segment(a.accelerator_type), int(a.accelerator_count))
        for a in inst.guest_accelerators
        if a.accelerator_count
    )
    return GceInstance(
        id=str(inst.id),
        name=inst.name,
        zone=last_segment(inst.zone),
        machine_type=last_segment(inst.machine_type),
        status=inst.status,
        labels=dict(inst.labels),
        accelerators=accels,
        created=parse_time(inst.creation_timestamp),
        last_start=parse_time(inst.last_start_timestamp),
        # legacy preemptible VMs say so in `scheduling.preemptible`, not in the provisioning model
        provisioning_model=(
            "PREEMPTIBLE"
            if inst.scheduling.preemptible and inst.scheduling.provisioning_model in ("", "STANDARD")
            else inst.scheduling.provisioning_model or "STANDARD"
        ),
        last_stop=parse_time(inst.last_stop_timestamp),
        created_by=last_segment(next((i.value for i in inst.metadata.items if i.key == "created-by"), "")),
    )


def _disk(d: Any) -> GceDisk:
    regional = bool(d.region) and not d.zone
    return GceDisk(
        id=str(d.id),
        name=d.name,
        location=last_segment(d.region if regional else d.zone),
        disk_type=last_segment(d.type_),
        size_gb=int(d.size_gb),
        users=tuple(d.users),
        labels=dict(d.labels),
        created=parse_time(d.creation_timestamp),
        last_attach=parse_time(d.last_attach_timestamp),
        last_detach=parse_time(d.last_detach_timestamp),
        status=d.status,
        regional=regional,
    )


def inventory(ctx: ScanContext, project: str) -> ProjectInventory:
    """Instances and disks of every zone of a project: one paginated aggregatedList each."""

    def fetch() -> ProjectInventory:
        from google.cloud import compute_v1

        inv = ProjectInventory(project)

        def scopes(client_cls: Any, request_cls: Any) -> Iterator[Any]:
            """Every zone's answer of one aggregated list; zone warnings noted on the way."""
            client = gapic_client(ctx, client_cls, "compute")
            request = request_cls(project=project, max_results=500)
            for page in client.aggregated_list(request=request, **call_limits(ctx)).pages:
                for scope, scoped in page.items.items():
                    if scoped.warning and scoped.warning.code not in _OK_WARNINGS:
                        inv.warnings.append(f"{scope}: {scoped.warning.code}")
                    yield scoped

        for scoped in scopes(compute_v1.InstancesClient, compute_v1.AggregatedListInstancesRequest):
            inv.instances.extend(_instance(i) for i in scoped.instances)
        for scoped in scopes(compute_v1.DisksClient, compute_v1.AggregatedListDisksRequest):
            inv.disks.extend(_disk(d) for d in scoped.disks)
        return inv

    return ctx.memo(("gcp", "inventory", project), fetch)


# --- fan-out ----------------------------------------------------------------------------------


def for_each_project(ctx: ScanContext, scanner: str, work: Callable[[str], ScopeItems]) -> ScopeOutcome:
    """Run `work` per project concurrently (GcpProvider.scan_scopes): a project that fails in
    any way (refused, unreachable, an answer that is not the API's JSON, a bug) or is still running
    at the scan deadline is one coverage line, and the other projects' results are kept."""
    return GcpProvider.scan_scopes(ctx, scanner, work)


# --- what the GCP provider's fan-out asks of this module (core/plugin.py Provider.failures) ----
def scopes(ctx: ScanContext) -> list[str]:
    return projects(ctx)


def explain_failure(exc: BaseException, scope: str) -> str:
    return explain(exc, scope)
