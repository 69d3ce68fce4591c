"""The LLM-log provider: its `scan` flags and typed settings (config section `llm:`, checked by
the llm scanner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption


@dataclass
class LlmSettings:
    logs: list[str] = field(default_factory=list)  # files, dirs, globs, .gz, s3://
    log_format: str | None = None  # forced instead of detected
    show_prompts: bool = False


class LlmProvider(Provider):
    name = "llm"
    title = "LLM logs"
    description = "LLM API request logs: premium-model misuse, retries, loops, uncached prompts"
    options = (
        ProviderOption("logs", ("--llm-logs",), "LLM request logs: files, dirs, globs, .gz, s3:// "
                       "(repeatable).", kind="list"),
        ProviderOption("log_format", ("--llm-log-format",), "Force the LLM log format instead of "
                       "detecting it."),
        ProviderOption("show_prompts", ("--show-prompts",), "Include prompt text in reports (off: "
                       "hashes only).", kind="flag"),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> LlmSettings:
        return LlmSettings(logs=list(values.get("logs") or []), log_format=values.get("log_format"),
                           show_prompts=bool(values.get("show_prompts")))

    @classmethod
    def in_play(cls, settings: LlmSettings) -> bool:
        return bool(settings.logs)
