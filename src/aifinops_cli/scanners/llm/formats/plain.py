"""The plain documented CSV (or flat JSON lines) for everything else."""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, register


def _plain(x: Extract) -> Spec:
    def c(name: str) -> str:
        return f"nonempty({x.get('$.' + name)})"

    return Spec(
        fields={
            "ts": f"ts_any({c('timestamp')})",
            "provider": c("provider"),
            "model": c("model"),
            "input_tokens": f"toint({c('input_tokens')})",
            "output_tokens": f"toint({c('output_tokens')})",
            "cached_input_tokens": f"coalesce(toint({c('cached_input_tokens')}), 0)",
            "cache_write_tokens": f"coalesce(toint({c('cache_write_tokens')}), 0)",
            "reasoning_tokens": f"coalesce(toint({c('reasoning_tokens')}), 0)",
            "logged_cost": f"TRY_CAST({c('cost_usd')} AS DOUBLE)",
            "latency_ms": f"TRY_CAST({c('latency_ms')} AS DOUBLE)",
            "status": f"CASE WHEN lower(coalesce({c('status')}, 'ok')) IN ('ok', 'success', '200') "
            f"AND {c('error')} IS NULL THEN 'ok' ELSE 'error' END",
            "error": c("error"),
            "request_id": c("request_id"),
            "trace_id": c("trace_id"),
            "session_id": c("session_id"),
            "user_id": c("user"),
            "team": c("team"),
            "app": c("app"),
            "feature": c("feature"),
            "customer": c("customer"),
            "prompt_json": c("prompt"),
            "prompt_hash_given": c("prompt_hash"),
            "has_tools": "false",
            "cache_hit": "false",
            "outcome": c("outcome"),
            "tool_name": c("tool_name"),
        },
    )


def _is_flat(obj: dict[str, Any]) -> bool:
    return {"model", "input_tokens", "output_tokens"} <= set(obj) and "usage" not in obj


def _csv(header: set[str]) -> bool:
    return {"model", "input_tokens", "output_tokens"} <= header


register(
    Format(
        "csv",
        "the plain documented CSV (see formats.PLAIN_CSV_COLUMNS), or the same as flat JSON lines",
        spec=_plain,
        detect=_is_flat,
        csv_header=_csv,
        order=40,
    ),
)
