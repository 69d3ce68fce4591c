"""The AWS provider: its `scan` flags, its `aws:` config section and its typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption, split_list


@dataclass
class AwsSettings:
    profile: str | None = None  # --profile, $AWS_PROFILE or aws.profile
    regions: list[str] = field(default_factory=list)  # none: every enabled region
    live_prices: bool | None = None  # None: config pricing.live, else the Price List API (the demo: off)


class AwsProvider(Provider):
    name = "aws"
    title = "AWS"
    description = "EC2 GPU instances, EBS volumes, EKS GPU node groups, SageMaker"
    config_keys = ("profile", "regions")
    options = (
        ProviderOption("profile", ("--profile",), "AWS profile.", envvar="AWS_PROFILE"),
        ProviderOption(
            "regions",
            ("--regions",),
            "AWS regions, comma-separated (default: all enabled).",
            kind="list",
            split=True,
        ),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> AwsSettings:
        return AwsSettings(
            profile=values.get("profile") or section.get("profile"),
            regions=values.get("regions") or split_list(section.get("regions")),
        )

    # its scopes are regions, shown by name; what a failure means is said in scanners/aws/common.py
    # (imported only when a scan fans out: this module imports no cloud client)
    scope_kind = "region"
    failures = "aifinops_cli.scanners.aws.common"
