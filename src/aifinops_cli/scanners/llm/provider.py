"""The LLM-log provider: its `scan` flags, its `llm:` config section (keys and value checks) and
its typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption


@dataclass
class LlmSettings:
    logs: list[str] = field(default_factory=list)  # files, dirs, globs, .gz, s3://
    log_format: str | None = None  # forced instead of detected
    show_prompts: bool = False


# the `llm:` section's keys (read by scanners/llm/scanner.py settings_from and scan)
NUMBERS: dict[str, type] = {"discount_pct": float, "loop_window_calls": int, "retry_gap_seconds": float}
MAPPINGS = (
    "attribute_keys",
    "key_aliases",
    "simple_request",
    "budgets",
    "azure_deployments",
    "bedrock_batch_models",
)


class LlmProvider(Provider):
    name = "llm"
    title = "LLM logs"
    description = "LLM API request logs: premium-model misuse, retries, loops, uncached prompts"
    client_modules = ("genai_prices",)
    extra = "llm"
    scope_kind = "file"  # each input (a file, a glob, s3://) is one coverage line
    config_keys = tuple(sorted({*NUMBERS, *MAPPINGS, "prices", "tiers_file", "memory_limit", "database"}))
    options = (
        ProviderOption(
            "logs",
            ("--llm-logs",),
            "LLM request logs: files, dirs, globs, .gz, s3:// (repeatable).",
            kind="list",
        ),
        ProviderOption(
            "log_format", ("--llm-log-format",), "Force the LLM log format instead of detecting it."
        ),
        ProviderOption(
            "show_prompts",
            ("--show-prompts",),
            "Include prompt text in reports (off: hashes only).",
            kind="flag",
        ),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> LlmSettings:
        return LlmSettings(
            logs=list(values.get("logs") or []),
            log_format=values.get("log_format"),
            show_prompts=bool(values.get("show_prompts")),
        )

    @classmethod
    def in_play(cls, settings: LlmSettings) -> bool:
        return bool(settings.logs)

    @classmethod
    def check_section(cls, section: dict[str, Any], settings: LlmSettings) -> None:
        """The whole section read as a scan reads it (prices, tiers file, engine settings) and
        --llm-log-format; the reader lives with the scanner, imported only when checked."""
        from aifinops_cli.scanners.llm.scanner import check_llm_config

        check_llm_config(section, settings)
