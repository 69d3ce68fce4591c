"""The billing-export provider: its `scan` flags, its `billing:` config section (keys and value
checks) and its typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aifinops_cli.core.plugin import Provider, ProviderOption, ScannerError, check_keys
from aifinops_cli.core.yamlsrc import SourceError

if TYPE_CHECKING:
    from aifinops_cli.scanners.billing.queries import AiPatterns

# the `billing:` section's keys; `athena:` and `bigquery:` configure the remote engines
# (scanners/billing/scanner.py _remote), each falling back to its AIFINOPS_* variable
REMOTE_KEYS = {
    "athena": ("workgroup", "output_location", "region", "poll_seconds"),
    "bigquery": ("endpoint", "billing_project"),
}


def load_ai_patterns(section: dict[str, Any]) -> AiPatterns:
    """The AI services file of `billing.ai_services` (else the bundled one), or ScannerError."""
    from aifinops_cli.scanners.billing.queries import AiPatterns

    path = section.get("ai_services")
    try:
        return AiPatterns.load(Path(path) if path else None)
    except SourceError as exc:
        raise ScannerError(f"config billing.ai_services: {exc}") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise ScannerError(f"cannot read the AI services file {path}: {exc}") from exc


@dataclass
class BillingSettings:
    paths: list[str] = field(default_factory=list)  # files, dirs, globs, s3://, athena://, bigquery://
    format: str | None = None  # forced instead of detected


class BillingProvider(Provider):
    name = "billing"
    title = "Billing exports"
    description = "FOCUS, AWS CUR and GCP billing exports: egress, untagged AI spend, anomalies"
    scope_kind = "file"  # each input (a file, a glob, s3://, athena://, bigquery://) is one coverage line
    config_keys = ("ai_services", "owner_tag_keys", "top_flows", "memory_limit", *REMOTE_KEYS)
    options = (
        ProviderOption(
            "paths",
            ("--billing",),
            "Billing exports: FOCUS, CUR, GCP export; files, dirs, "
            "globs, s3://, athena://db.table, bigquery://project.dataset.table (repeatable).",
            kind="list",
        ),
        ProviderOption("format", ("--billing-format",), "Force the billing format instead of detecting it."),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> BillingSettings:
        return BillingSettings(paths=list(values.get("paths") or []), format=values.get("format"))

    @classmethod
    def in_play(cls, settings: BillingSettings) -> bool:
        return bool(settings.paths)

    @classmethod
    def check_section(cls, section: dict[str, Any], settings: BillingSettings) -> None:
        """--billing-format, the AI services file and each setting's type, before any scan work."""
        from aifinops_cli.scanners.billing.formats import FORMATS

        if settings.format and settings.format not in FORMATS:
            raise ScannerError(
                f"unknown --billing-format {settings.format!r}; choose from " + ", ".join(FORMATS)
            )
        check_keys("billing", section, cls.config_keys)
        keys = section.get("owner_tag_keys")
        if keys is not None and (
            not isinstance(keys, list) or not all(isinstance(k, str) and k.strip() for k in keys)
        ):
            raise ScannerError("config billing.owner_tag_keys: expected a list of tag keys")
        top = section.get("top_flows", 10)
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ScannerError(
                f"config billing.top_flows: expected a whole number of at least 1, got {top!r}"
            )
        if not isinstance(section.get("memory_limit", "1GB"), str):
            raise ScannerError("config billing.memory_limit: expected a size such as 1GB")
        for engine, known in REMOTE_KEYS.items():
            check_keys(f"billing.{engine}", section.get(engine) or {}, known)
            for key, value in (section.get(engine) or {}).items():
                if key == "poll_seconds":
                    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
                        raise ScannerError(
                            f"config billing.{engine}.{key}: expected a number of "
                            f"seconds from 0 to 60, got {value!r}"
                        )
                elif not isinstance(value, str):
                    raise ScannerError(f"config billing.{engine}.{key}: expected text, got {value!r}")
        load_ai_patterns(section)
