# ruff: noqa: E501  (SQL text reads better unwrapped)
"""LiteLLM proxy logs: the LiteLLM_SpendLogs table (CSV, JSON lines, JSON array) and
StandardLoggingPayload callbacks."""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, register


def _litellm_spend(x: Extract) -> Spec:
    """LiteLLM_SpendLogs rows. `metadata` may be an object (JSON) or a JSON string (CSV)."""
    meta = x.get("$.metadata")
    usage = (
        f"TRY(json_extract_string({meta}, ['$.usage_object.prompt_tokens_details.cached_tokens', "
        "'$.usage_object.cache_read_input_tokens', '$.usage_object.cache_creation_input_tokens', "
        "'$.usage_object.completion_tokens_details.reasoning_tokens', '$.error_information.error_code']))"
    )
    start = x.get("$.startTime")
    end = x.get("$.endTime")
    model = x.get("$.model")
    return Spec(
        fields={
            "ts": f"ts_any({start})",
            "provider": f"coalesce(nonempty({x.get('$.custom_llm_provider')}), "
            f"CASE WHEN contains({model}, '/') THEN split_part({model}, '/', 1) END)",
            "model": f"CASE WHEN contains({model}, '/') THEN split_part({model}, '/', -1) ELSE {model} END",
            "input_tokens": f"toint({x.get('$.prompt_tokens')})",
            "output_tokens": f"toint({x.get('$.completion_tokens')})",
            "cached_input_tokens": f"coalesce(toint(coalesce(({usage})[1], ({usage})[2])), 0)",
            "cache_write_tokens": f"coalesce(toint(({usage})[3]), 0)",
            "reasoning_tokens": f"coalesce(toint(({usage})[4]), 0)",
            "logged_cost": f"TRY_CAST({x.get('$.spend')} AS DOUBLE)",
            "latency_ms": f"coalesce(TRY_CAST({x.get('$.request_duration_ms')} AS DOUBLE), "
            f"date_diff('millisecond', ts_any({start}), ts_any({end})))",
            "status": f"CASE WHEN lower(coalesce({x.get('$.status')}, 'success')) IN ('success', '') "
            "THEN 'ok' ELSE 'error' END",
            "error": f"nonempty(({usage})[5])",
            "request_id": x.get("$.request_id"),
            "trace_id": f"nonempty({x.get('$.trace_id')})",
            "session_id": f"nonempty({x.get('$.session_id')})",
            "user_id": f"nonempty({x.get('$.user')})",
            "customer": f"nonempty({x.get('$.end_user')})",
            "prompt_json": f"nonempty({x.get('$.messages')})",
            "prompt_hash_given": "NULL",
            "has_tools": "false",
            "cache_hit": f"lower(coalesce({x.get('$.cache_hit')}, '')) = 'true'",
        },
        meta_texts=[meta],
        tags=x.get("$.request_tags"),
        # the team alias (metadata.user_api_key_team_alias) first, as in the payload; the id after
        fallback={"team": f"nonempty({x.get('$.team_id')})"},
    )


def _litellm_payload(x: Extract) -> Spec:
    root = "$.standard_logging_object"

    def g(path: str) -> str:
        return x.get(f"{root}.{path}", f"$.{path}")

    model = g("model")
    return Spec(
        fields={
            "ts": f"ts_any({g('startTime')})",
            "provider": f"coalesce(nonempty({g('custom_llm_provider')}), "
            f"CASE WHEN contains({model}, '/') THEN split_part({model}, '/', 1) END)",
            "model": f"CASE WHEN contains({model}, '/') THEN split_part({model}, '/', -1) ELSE {model} END",
            "input_tokens": f"toint({g('prompt_tokens')})",
            "output_tokens": f"toint({g('completion_tokens')})",
            "cached_input_tokens": f"coalesce(toint(coalesce({g('metadata.usage_object.prompt_tokens_details.cached_tokens')}, "
            f"{g('metadata.usage_object.cache_read_input_tokens')})), 0)",
            "cache_write_tokens": f"coalesce(toint({g('metadata.usage_object.cache_creation_input_tokens')}), 0)",
            "reasoning_tokens": f"coalesce(toint({g('metadata.usage_object.completion_tokens_details.reasoning_tokens')}), 0)",
            "logged_cost": f"TRY_CAST(coalesce({g('response_cost')}, {g('cost_breakdown.total_cost')}) AS DOUBLE)",
            "latency_ms": f"(TRY_CAST({g('endTime')} AS DOUBLE) - TRY_CAST({g('startTime')} AS DOUBLE)) * 1000",
            "status": f"CASE WHEN lower(coalesce({g('status')}, 'success')) = 'success' THEN 'ok' ELSE 'error' END",
            "error": f"nonempty(coalesce({g('error_information.error_code')}, {g('error_information.error_class')}))",
            "request_id": g("id"),
            "trace_id": f"nonempty({g('trace_id')})",
            "session_id": f"nonempty({g('session_id')})",
            "user_id": f"nonempty({g('metadata.user_api_key_user_id')})",
            "customer": f"nonempty({g('end_user')})",
            "prompt_json": f"nonempty({g('messages')})",
            "prompt_hash_given": "NULL",
            "has_tools": "false",
            "cache_hit": f"coalesce(TRY_CAST({g('cache_hit')} AS BOOLEAN), false)",
        },
        meta_prefixes=[
            f"{root}.metadata",
            "$.metadata",
            f"{root}.metadata.spend_logs_metadata",
            "$.metadata.spend_logs_metadata",
        ],
        tags=g("request_tags"),
        fallback={"team": f"nonempty({g('team_id')})"},
    )


def _is_spend(obj: dict[str, Any]) -> bool:
    return "spend" in obj and "request_id" in obj


def _is_payload(obj: dict[str, Any]) -> bool:
    return "response_cost" in obj or "standard_logging_object" in obj


def _spend_csv(header: set[str]) -> bool:
    return {"request_id", "spend"} <= header and ("starttime" in header or "model" in header)


register(
    Format(
        "litellm-spend",
        "LiteLLM_SpendLogs rows as JSON lines or a JSON array (/spend/logs)",
        spec=_litellm_spend,
        detect=_is_spend,
        order=30,
    ),
    Format(
        "litellm-spend-csv",
        "the LiteLLM_SpendLogs table exported as CSV",
        spec=_litellm_spend,
        csv_header=_spend_csv,
        order=30,
    ),
    Format(
        "litellm-payload",
        "LiteLLM StandardLoggingPayload callbacks (JSON lines)",
        spec=_litellm_payload,
        detect=_is_payload,
        order=31,
    ),
)
