"""Shared helpers for the LLM tests: write logs, run the real scanner, evaluate the real rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.llm.engine import Engine
from aifinops_cli.scanners.llm.inputs import LogFile
from aifinops_cli.scanners.llm.pricing import Override, PriceBook, genai_prices_version, load_tiers
from aifinops_cli.scanners.llm.provider import LlmSettings
from aifinops_cli.scanners.llm.scanner import LlmLogScanner, settings_from

MONTH = 730 / 24  # days per month (30.4167, the clouds' 730-hour month); under a day counts as one

# the columns of LiteLLM's spend-log table (LiteLLM_SpendLogs) as a CSV export has them
LITELLM_SPEND_COLUMNS = [
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "model",
    "custom_llm_provider",
    "metadata",
    "team_id",
    "end_user",
    "request_tags",
    "cache_hit",
    "status",
    "messages",
]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def context(
    paths: list[str],
    llm: dict[str, Any] | None = None,
    llm_log_format: str | None = None,
    show_prompts: bool = False,
    **opts: Any,
) -> ScanContext:
    config = Config(sections={"llm": llm or {}})
    flags = LlmSettings(logs=paths, log_format=llm_log_format, show_prompts=show_prompts)
    return ScanContext(
        options=ScanOptions(settings={"llm": flags}, **opts),
        config=config,
        prices=load_catalog(),
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )


def scan(paths: list[str], llm: dict[str, Any] | None = None, **opts: Any):
    return LlmLogScanner(context(paths, llm, **opts)).scan()


def findings(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in evaluate(load_rules(), result.observations):
        out.setdefault(f.rule_id, []).append(f)
    return out


def priced_rows(path: Path, fmt: str | None = None, llm: dict[str, Any] | None = None) -> list[dict]:
    """The priced request rows of one file, through the same engine the scanner uses."""
    ctx = context([str(path)], llm, llm_log_format=fmt)
    engine = Engine(settings_from(ctx.config.section("llm"), ctx.settings("llm")))
    try:
        out = engine.load(LogFile(str(path), str(path)))
        assert not out.error, out.error
        overrides = [Override.parse(p) for p in (llm or {}).get("prices", [])]
        deployments = (llm or {}).get("azure_deployments", {})
        book = PriceBook(overrides, 0.0, genai_prices_version(), azure_deployments=deployments)
        engine.price(book, load_tiers())
        # the file's format is kept once per file (`parts`), not on each record
        cur = engine.con.execute("SELECT req.*, parts.fmt FROM req JOIN parts USING (part) ORDER BY line_no")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        engine.close()


def typed_read(path: Path) -> bool:
    """Whether the engine read the file with DuckDB's typed, parallel JSON reader (its rows then
    have no stored line numbers and the file a `base`), not the slow line-by-line fallback."""
    ctx = context([str(path)])
    engine = Engine(settings_from(ctx.config.section("llm"), ctx.settings("llm")))
    try:
        out = engine.load(LogFile(str(path), str(path)))
        assert not out.error and out.rows, out
        return engine.con.execute("SELECT base FROM parts").fetchone()[0] is not None
    finally:
        engine.close()
