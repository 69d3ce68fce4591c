"""The billing-export provider: its `scan` flags and typed settings (config section `billing:`,
checked by the billing scanner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption


@dataclass
class BillingSettings:
    paths: list[str] = field(default_factory=list)  # files, dirs, globs, s3://, athena://, bigquery://
    format: str | None = None  # forced instead of detected


class BillingProvider(Provider):
    name = "billing"
    title = "Billing exports"
    description = "FOCUS, AWS CUR and GCP billing exports: egress, untagged AI spend, anomalies"
    options = (
        ProviderOption("paths", ("--billing",), "Billing exports: FOCUS, CUR, GCP export; files, dirs, "
                       "globs, s3://, athena://db.table, bigquery://project.dataset.table (repeatable).",
                       kind="list"),
        ProviderOption("format", ("--billing-format",), "Force the billing format instead of detecting "
                       "it."),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> BillingSettings:
        return BillingSettings(paths=list(values.get("paths") or []), format=values.get("format"))

    @classmethod
    def in_play(cls, settings: BillingSettings) -> bool:
        return bool(settings.paths)
