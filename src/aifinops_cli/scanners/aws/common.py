"""What every AWS scanner shares: sessions, regions, error wording and the per-region inventory.

Both AWS scanners read the same DescribeInstances/DescribeVolumes pages; the inventory is
memoised on the scan context so each region is listed once per scan, however many scanners use it.
Only Describe/List/Get calls are made (see tests/scanners/aws/test_aws_scan.py).

Every session carries the scan's limits as its default client config (connect and read timeouts,
a bounded number of attempts per call) and refuses to send any request once the scan deadline
has passed, so work abandoned at the deadline ends at its next call.
"""

from __future__ import annotations

import logging
import re
import threading
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.parsers
import botocore.session
from botocore.config import Config as BotoConfig

from aifinops_cli import __version__
from aifinops_cli.core.fanout import ScopeItems, ScopeOutcome
from aifinops_cli.core.models import ScanResult
from aifinops_cli.core.plugin import Limits, ScanContext, Scanner, ScannerError
from aifinops_cli.scanners.aws.provider import AwsProvider

log = logging.getLogger("aifinops")

# Passed to every client; timeouts and retries come from the session's default client config
# (`client_limits`), which an explicit value here would override.
BOTO_CONFIG = BotoConfig(user_agent_extra=f"aifinops/{__version__}")

# What AWS (or the network to it) can do to one call: refuse it, fail to answer, or answer with
# something botocore cannot parse (ResponseParserError is no BotoCoreError, and botocore's JSON
# protocols decode the body as UTF-8 before any check, so bytes that are not UTF-8 surface as
# UnicodeDecodeError; aifinops itself decodes no bytes in the AWS scanners).
AWS_ERRORS: tuple[type[BaseException], ...] = (
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,
    botocore.parsers.ResponseParserError,
    UnicodeDecodeError,
)


class ScanDeadlineReached(botocore.exceptions.BotoCoreError):
    """Raised instead of sending a request after the scan deadline (never retried by botocore)."""

    fmt = "scan deadline reached before {operation} was sent"


def client_limits(limits: Limits) -> BotoConfig:
    """Per-request timeouts and a per-call attempt budget (adaptive mode also rate-limits after
    throttling, and its retry quota bounds retries across a client's calls)."""
    return BotoConfig(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        retries={"mode": "adaptive", "total_max_attempts": limits.max_attempts},
    )


# Accelerated EC2 families: NVIDIA/AMD GPUs (p, g, gr), Trainium, Inferentia, Gaudi (dl),
# FPGAs (f) and video transcoders (vt). One place for this fact.
ACCELERATED_FAMILY = re.compile(r"^(p\d|g\d|gr\d|trn\d|inf\d|dl\d|dl2q|f\d|vt\d)")

_ACCESS_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
}
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_OPT_IN_CODES = {"OptInRequired"}


def is_accelerated(instance_type: str) -> bool:
    return bool(ACCELERATED_FAMILY.match(instance_type))


def explain(exc: BaseException, service: str = "", region: str = "") -> str:
    """One line that says what went wrong and what to do about it."""
    where = " ".join(x for x in (service, region) if x)
    prefix = f"{where}: " if where else ""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return (
            "no AWS credentials found: run `aws configure` or `aws sso login`, set AWS_PROFILE, "
            "or pass --profile"
        )
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return f"AWS profile not found: {exc}; check --profile and ~/.aws/config"
    if isinstance(exc, botocore.exceptions.TokenRetrievalError | botocore.exceptions.SSOError):
        return "AWS SSO session expired: run `aws sso login` and retry"
    if isinstance(exc, ScanDeadlineReached):
        return f"{prefix}timed out: the scan deadline (--timeout) passed before this finished"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"{prefix}cannot reach the AWS endpoint ({exc.kwargs.get('endpoint_url', '')})"
    if isinstance(exc, botocore.exceptions.ConnectTimeoutError):
        return f"{prefix}timed out connecting to the AWS endpoint ({exc.kwargs.get('endpoint_url', '')})"
    if isinstance(exc, botocore.exceptions.ReadTimeoutError):
        return (
            f"{prefix}read timed out: the AWS endpoint sent no answer within the read timeout "
            f"({exc.kwargs.get('endpoint_url', '')}); config scan.read_timeout sets it"
        )
    if isinstance(exc, botocore.exceptions.ConnectionClosedError):
        return f"{prefix}the connection was closed before AWS answered ({exc.kwargs.get('endpoint_url', '')})"
    if isinstance(exc, botocore.parsers.ResponseParserError | UnicodeDecodeError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{prefix}unreadable answer from AWS (not the XML/JSON the API returns): {first[:200]}"
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        op = getattr(exc, "operation_name", "")
        if code in _EXPIRED_CODES:
            return f"{prefix}AWS credentials expired ({code}): refresh them (`aws sso login`) and retry"
        if code in _OPT_IN_CODES:
            return f"{prefix}region not enabled for this account (OptInRequired): enable it or omit it"
        if code in _ACCESS_CODES:
            return (
                f"{prefix}access denied for {op} ({code}): attach the aifinops read-only "
                "policy from the README"
            )
        if "Throttl" in code or code == "RequestLimitExceeded":
            return f"{prefix}throttled by AWS after retries ({code}): retry later or narrow --regions"
        return f"{prefix}{op} failed: {code}: {exc.response.get('Error', {}).get('Message', '')}"
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return f"{prefix}{exc}"
    return f"{prefix}{type(exc).__name__}: {exc}"


def is_fatal(exc: BaseException) -> bool:
    """Errors that will fail the same way in every region: stop instead of repeating them."""
    if isinstance(
        exc,
        botocore.exceptions.NoCredentialsError
        | botocore.exceptions.ProfileNotFound
        | botocore.exceptions.TokenRetrievalError
        | botocore.exceptions.SSOError,
    ):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        return code in _EXPIRED_CODES or code in {"InvalidClientTokenId", "UnrecognizedClientException"}
    return False


class _SharedLoader(botocore.loaders.Loader):
    """The one service-model loader of every session the scanners create, its reads one at a
    time. botocore caches what a loader has read, but the scanners start all their regions at
    once: without the lock each thread parsed the same multi-megabyte model (EC2, SageMaker)
    itself, about 3 s of CPU in a demo scan; with it the first reads and the rest are cache hits."""

    _lock = threading.RLock()

    def load_service_model(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return super().load_service_model(*args, **kwargs)

    def load_data(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return super().load_data(*args, **kwargs)

    def load_data_with_path(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return super().load_data_with_path(*args, **kwargs)


_LOADER = _SharedLoader()


def _shared_or_own_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    return _LOADER if not search_path_string else botocore.loaders.create_loader(search_path_string)


def share_service_models() -> None:
    """Make every botocore session of this process that reads the default data path use the
    scanners' loader. For a process that hosts moto (the demo, the tests' fake AWS): moto builds
    throwaway sessions (three while importing its EC2 backend, one per region backend), and each
    parsed EC2's multi-megabyte service model again, about 0.9 s of CPU per process."""
    botocore.session.create_loader = _shared_or_own_loader  # type: ignore[assignment]


SESSION_HOOKS: list[Callable[[boto3.Session], None]] = []
"""Called with every session the scanners create: the place to register botocore event handlers
(the read-only test registers a `before-call` handler here; a plugin could add auditing)."""


def new_session(ctx: ScanContext) -> boto3.Session:
    """A fresh session per thread: boto3 sessions are not thread-safe."""
    try:
        core = botocore.session.Session()
        core.register_component("data_loader", _LOADER)  # parse service models once, not per thread
        core.set_default_client_config(client_limits(ctx.options.limits))
        session = boto3.Session(botocore_session=core, profile_name=ctx.settings("aws").profile)
    except botocore.exceptions.ProfileNotFound as exc:
        raise ScannerError(explain(exc)) from None

    def refuse_after_deadline(model: Any = None, **_: Any) -> None:
        if ctx.expired():
            raise ScanDeadlineReached(operation=getattr(model, "name", "a retry"))

    session.events.register("before-call", refuse_after_deadline)
    session.events.register("before-send", lambda **_: refuse_after_deadline())  # each retry too
    for hook in SESSION_HOOKS:
        hook(session)
    return session


def client(ctx: ScanContext, session: boto3.Session, service: str, region: str) -> Any:
    """The scan's one client for `service` in `region`, shared by every scanner and thread
    (botocore clients are thread-safe; sessions are not, hence a session per thread). botocore
    builds a new client class, one method per API operation (EC2 has about 600), on each
    `session.client`, and a two-region scan used to build eight SageMaker clients."""
    return ctx.memo(
        ("aws", "client", service, region),
        lambda: session.client(service, region_name=region, config=BOTO_CONFIG),
    )


def account_id(ctx: ScanContext) -> str:
    def fetch() -> str:
        session = new_session(ctx)
        try:
            sts = session.client("sts", region_name=session.region_name or "us-east-1", config=BOTO_CONFIG)
            return str(sts.get_caller_identity()["Account"])
        except AWS_ERRORS as exc:
            raise ScannerError(explain(exc, "sts")) from None

    return ctx.memo(("aws", "account"), fetch)


def regions(ctx: ScanContext) -> list[str]:
    """--regions if given, else every region enabled for the account."""
    if ctx.settings("aws").regions:
        return list(ctx.settings("aws").regions)

    def fetch() -> list[str]:
        session = new_session(ctx)
        ec2 = session.client("ec2", region_name=session.region_name or "us-east-1", config=BOTO_CONFIG)
        try:
            answer = ec2.describe_regions(
                Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
            )
        except AWS_ERRORS as exc:
            raise ScannerError(explain(exc, "ec2 DescribeRegions")) from None
        return sorted(r["RegionName"] for r in answer["Regions"])

    return ctx.memo(("aws", "regions"), fetch)


@dataclass
class RegionInventory:
    region: str
    instances: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def volumes_by_id(self) -> dict[str, dict[str, Any]]:
        return {v["VolumeId"]: v for v in self.volumes}


def inventory(ctx: ScanContext, session: boto3.Session, region: str) -> RegionInventory:
    """Instances (running and stopped) and all volumes of one region, listed once per scan."""

    def fetch() -> RegionInventory:
        ec2 = client(ctx, session, "ec2", region)
        inv = RegionInventory(region)
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["running", "stopped"]}],
            PaginationConfig={"PageSize": 1000},
        )
        for page in pages:
            for reservation in page["Reservations"]:
                inv.instances.extend(reservation["Instances"])
        for page in ec2.get_paginator("describe_volumes").paginate(PaginationConfig={"PageSize": 1000}):
            inv.volumes.extend(page["Volumes"])
        return inv

    return ctx.memo(("aws", "inventory", region), fetch)


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in resource.get("Tags", []) or []}


def for_each_region(
    ctx: ScanContext, scanner: str, work: Callable[[boto3.Session, str], ScopeItems]
) -> ScopeOutcome:
    """Run `work` per region concurrently (AwsProvider.scan_scopes): a region that fails in
    any way or is still running at the scan deadline is one coverage line, the others are kept;
    credentials that fail everywhere stop the scanner with one line."""
    return AwsProvider.scan_scopes(ctx, scanner, lambda region: work(new_session(ctx), region))


class RegionalScanner(Scanner):
    """An AWS scanner that judges each region on its own; regions run concurrently, and a region
    that fails is one coverage line. Subclasses implement `scan_region`."""

    provider = "aws"

    def scan(self) -> ScanResult:
        self.account = account_id(self.context)
        done = for_each_region(self.context, self.name, self.scan_region)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    @abstractmethod
    def scan_region(self, session: boto3.Session, region: str) -> ScopeItems: ...


# --- what the AWS provider's fan-out asks of this module (core/plugin.py Provider.failures) ----
def scopes(ctx: ScanContext) -> list[str]:
    return regions(ctx)


def expected_errors() -> tuple[type[BaseException], ...]:
    return AWS_ERRORS


def explain_failure(exc: BaseException, scope: str) -> str:
    return explain(exc, "", scope)
