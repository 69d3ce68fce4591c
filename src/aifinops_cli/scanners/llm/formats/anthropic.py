# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Anthropic Messages responses (bare or wrapped as {request, response}) and Message Batches
results ({custom_id, result: {type: succeeded | errored | expired | canceled, message}}).

Anthropic's `usage.input_tokens` excludes cache reads and writes: they are added back so the
canonical input is the total. Batch results bill at the batch rate; an errored, expired or
canceled result is a failed request (no tokens billed), not a malformed record.
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, last_name, register, reply_hash


def _spec(x: Extract, batch: bool = False) -> Spec:
    bodies = ("$.result.message",) if batch else ("$.response", "$")

    def b(path: str) -> str:
        return x.get(*(f"{p}.{path}" for p in bodies))

    cw = f"coalesce(toint({b('usage.cache_creation_input_tokens')}), 0)"
    cr = f"coalesce(toint({b('usage.cache_read_input_tokens')}), 0)"
    if batch:
        status = f"CASE WHEN coalesce({x.get('$.result.type')}, '') <> 'succeeded' THEN 'error' ELSE 'ok' END"
        error = (
            f"CASE WHEN coalesce({x.get('$.result.type')}, '') <> 'succeeded' THEN coalesce("
            f"nonempty({x.get('$.result.error.error.type', '$.result.error.type')}), {x.get('$.result.type')}, 'no result') END"
        )
        request_id = x.get("$.custom_id")
    else:
        status = (
            f"CASE WHEN nonempty({x.get('$.error', '$.response.error')}) IS NOT NULL "
            f"OR {b('type')} = 'error' OR TRY_CAST({x.get('$.status_code')} AS INT) >= 400 "
            "THEN 'error' ELSE 'ok' END"
        )
        error = (
            f"nonempty(coalesce({x.get('$.error.type', '$.response.error.type', '$.error')}, "
            f"{x.get('$.status_code')}))"
        )
        request_id = f"coalesce({x.get('$.request_id')}, {b('id')})"
    return Spec(
        fields={
            "ts": f"ts_any({x.get('$.timestamp', '$.start_time', '$.created_at', '$.ended_at')})",
            "provider": f"coalesce(nonempty({x.get('$.provider')}), 'anthropic')",
            "model": f"coalesce({b('model')}, {x.get('$.request.model')})",
            "input_tokens": f"toint({b('usage.input_tokens')}) + {cw} + {cr}",
            "output_tokens": f"toint({b('usage.output_tokens')})",
            "cached_input_tokens": cr,
            "cache_write_tokens": cw,
            # 1-hour cache writes bill at a higher rate than the default 5-minute ones
            "cache_write_1h_tokens": f"coalesce(toint({b('usage.cache_creation.ephemeral_1h_input_tokens')}), 0)",
            "reasoning_tokens": "0",
            "logged_cost": f"TRY_CAST({x.get('$.cost_usd', '$.cost')} AS DOUBLE)",
            "latency_ms": f"TRY_CAST({x.get('$.latency_ms', '$.duration_ms')} AS DOUBLE)",
            "status": status,
            "error": error,
            "request_id": request_id,
            "trace_id": x.get("$.trace_id"),
            "session_id": x.get("$.session_id"),
            "user_id": x.get("$.request.metadata.user_id", "$.user"),
            "prompt_json": f"nonempty({x.get('$.request.messages', '$.messages')})",
            "prompt_hash_given": x.get("$.prompt_hash"),
            "has_tools": f"nonempty({x.get('$.request.tools')}) IS NOT NULL",
            "cache_hit": "false",
            # tool_use blocks' name and input (text blocks add nulls, ids are left out)
            "reply_hash": reply_hash(
                b("content"),
                f"CAST(json_extract(CAST({b('content')} AS VARCHAR), '$[*].name') AS VARCHAR) || "
                f"CAST(json_extract(CAST({b('content')} AS VARCHAR), '$[*].input') AS VARCHAR)",
                f"CAST(json_extract(CAST({b('content')} AS VARCHAR), '$[*].text') AS VARCHAR)",
                f"contains(CAST({b('content')} AS VARCHAR), '\"tool_use\"')",
            ),
            # Anthropic's priority tier is a capacity commitment, not a per-token rate: standard
            "price_mode": "'batch'" if batch else "NULL",
            # the last tool_use block's name (text blocks have none)
            "tool_name": last_name(b("content"), "$[*].name"),
        },
        meta_prefixes=["$.metadata", "$.request.metadata"],
    )


def _is_batch_result(obj: dict[str, Any]) -> bool:
    result = obj.get("result")
    return "custom_id" in obj and isinstance(result, dict) and "type" in result


def _is_message(obj: dict[str, Any]) -> bool:
    body = obj.get("response") if isinstance(obj.get("response"), dict) else obj
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return (
        body.get("type") == "message"
        or "cache_creation_input_tokens" in usage
        or (
            "input_tokens" in usage
            and str(body.get("model", "")).startswith("claude")
            and body.get("object") != "response"
        )
    )


register(
    Format(
        "anthropic-batch",
        "Anthropic Message Batches results {custom_id, result} (batch rate)",
        spec=lambda x: _spec(x, batch=True),
        detect=_is_batch_result,
        order=21,
    ),
    Format(
        "anthropic",
        "Anthropic Messages responses, bare or {request, response}",
        spec=_spec,
        detect=_is_message,
        order=70,
    ),
)
