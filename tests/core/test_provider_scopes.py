"""A provider owns its scopes and the explanation of their failures (Provider.scope_kind,
scope_label, scopes, expected_errors, explain, is_fatal), and its scanners fan out through
Provider.scan_scopes. The built-ins delegate to the one place that explains each cloud's
credential and permission errors (scanners/aws/common.py, gcp/common.py, k8s/cluster.py); the
coverage lines their scans write are checked unchanged by the isolation tests."""

from __future__ import annotations

from datetime import UTC, datetime

import botocore.exceptions
import pytest
from google.api_core import exceptions as gexc
from kubernetes.client.exceptions import ApiException

from aifinops_cli.core.config import Config
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.plugin import Provider, ScanContext, ScannerError, ScanOptions
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.aws.provider import AwsProvider
from aifinops_cli.scanners.gcp.provider import GcpProvider
from aifinops_cli.scanners.k8s.provider import K8sProvider


class Refused(Exception):
    """What this plugin's cloud raises."""


class Expired(Refused):
    """Credentials that every subscription would refuse."""


class Subscriptions(Provider):
    name = "subs"
    scope_kind = "subscription"

    @classmethod
    def scope_label(cls, name: str) -> str:
        return f"subscription {name}"

    @classmethod
    def scopes(cls, ctx: ScanContext) -> list[str]:
        return ["s1", "s2", "s3"]

    @classmethod
    def expected_errors(cls) -> tuple[type[BaseException], ...]:
        return (Refused,)

    @classmethod
    def explain(cls, exc: BaseException, scope: str = "") -> str:
        return f"{scope + ': ' if scope else ''}refused: grant Reader on the subscription"

    @classmethod
    def is_fatal(cls, exc: BaseException) -> bool:
        return isinstance(exc, Expired)


def _ctx() -> ScanContext:
    return ScanContext(
        options=ScanOptions(), config=Config(), prices=PriceCatalog(), now=datetime(2026, 12, 1, tzinfo=UTC)
    )


def test_a_provider_fans_out_over_its_own_scopes_with_its_explanation() -> None:
    ctx = _ctx()

    def work(sub: str) -> ScopeItems:
        if sub == "s2":
            raise Refused("403")
        if sub == "s3":
            raise KeyError("vm")  # not an expected error: a bug, kept for exit 4
        return ScopeItems(items=["vm-a", "vm-b"])

    done = Subscriptions.scan_scopes(ctx, "subs.vm", work)
    assert [(c.scope, c.status, c.resources, c.message) for c in done.coverage] == [
        ("subscription s1", "ok", 2, ""),
        ("subscription s2", "failed", 0, "s2: refused: grant Reader on the subscription"),
        (
            "subscription s3",
            "failed",
            0,
            "s3: internal error: KeyError: 'vm' (rerun with --debug for details)",
        ),
    ]
    assert done.observations == ["vm-a", "vm-b"] and len(ctx.internal_errors) == 1


def test_credentials_every_scope_refuses_stop_the_scanner_with_one_line() -> None:
    def work(sub: str) -> ScopeItems:
        raise Expired("token expired")

    with pytest.raises(ScannerError, match=r"^refused: grant Reader on the subscription$"):
        Subscriptions.scan_scopes(_ctx(), "subs.vm", work, scopes=["s1", "s2"])


def test_a_plugin_without_an_explanation_gets_the_error_named() -> None:
    class Bare(Provider):
        name = "bare"

    assert Bare.scope_kind == "scope" and Bare.scope_label("x") == "x"
    assert Bare.explain(ValueError("bad answer"), "x") == "x: ValueError: bad answer"
    assert Bare.expected_errors() == () and not Bare.is_fatal(ValueError())


def _client_error(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "no"}}, "DescribeInstances")


@pytest.mark.parametrize(
    ("provider", "kind", "label"),
    [
        (AwsProvider, "region", "us-east-1"),
        (GcpProvider, "project", "project us-east-1"),
        (K8sProvider, "context", "context us-east-1"),
    ],
)
def test_builtin_scope_kinds_and_labels(provider: type[Provider], kind: str, label: str) -> None:
    assert provider.scope_kind == kind and provider.scope_label("us-east-1") == label


def test_builtin_explanations_are_the_providers_own() -> None:
    assert AwsProvider.explain(botocore.exceptions.NoCredentialsError(), "us-east-1").startswith(
        "no AWS credentials found: run `aws configure`"
    )
    assert AwsProvider.is_fatal(botocore.exceptions.NoCredentialsError())
    assert not AwsProvider.is_fatal(_client_error("UnauthorizedOperation"))
    assert isinstance(_client_error("Throttling"), AwsProvider.expected_errors())

    denied = GcpProvider.explain(gexc.Forbidden("caller lacks compute.instances.list"), "ml-prod")
    assert denied.startswith(
        "ml-prod: access denied (403): caller lacks compute.instances.list; grant the read-only roles in"
    )
    assert isinstance(gexc.Forbidden("x"), GcpProvider.expected_errors())
    assert GcpProvider.is_fatal(gexc.Unauthenticated("expired")) and not GcpProvider.is_fatal(
        gexc.Forbidden("x")
    )

    unauthorised = K8sProvider.explain(ApiException(status=401, reason="Unauthorized"), "prod")
    assert unauthorised.startswith("prod: unauthorised (401): the credentials of this context")
    assert isinstance(ApiException(status=500), K8sProvider.expected_errors())
