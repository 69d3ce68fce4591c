# ruff: noqa: E501  (SQL text reads better unwrapped)
"""OpenAI-shaped responses: Chat Completions, Responses API, Batch output, Azure OpenAI, OpenRouter,
and the OpenAI-compatible APIs of Mistral, Groq, Together, DeepSeek, xAI and Fireworks.

One shape, many billers: the provider is whoever sent the invoice, found from (first match) the
record's own `provider` field, the API base URL, vendor-only fields (Azure's
`prompt_filter_results`, Groq's `x_groq`, OpenRouter's `usage.cost`) and finally the model id.
It is never assumed to be OpenAI: an id nobody claims stays without provider and is looked up in
every catalog provider.

`usage.prompt_tokens` / `input_tokens` include cached tokens and `completion_tokens` /
`output_tokens` include reasoning tokens, the canonical convention. `service_tier` (`flex`,
`priority`) and Batch output lines set `price_mode`.
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, last_name, register, reply_hash

BODIES = ("$.response.body", "$.response", "$")


def _spec(x: Extract, default_provider: str | None = None, batch: bool = False) -> Spec:
    def b(path: str) -> str:
        return x.get(*(f"{p}.{path}" for p in BODIES))

    model = f"coalesce({b('model')}, {x.get('$.request.model', '$.request.body.model')})"
    slash = f"contains({model}, '/')"
    # OpenRouter responses name the upstream vendor in `provider`: its usage.cost says who billed
    openrouter = f"CASE WHEN {b('usage.cost')} IS NOT NULL AND {slash} THEN 'openrouter' END"
    vendor = (
        f"CASE WHEN {b('prompt_filter_results')} IS NOT NULL THEN 'azure' "
        f"WHEN {b('x_groq')} IS NOT NULL THEN 'groq' "
        f"WHEN {slash} AND {b('provider')} IS NOT NULL THEN 'openrouter' END"
    )
    # a vendor/model slug with no other hint is Together's naming (OpenRouter's carry usage.cost)
    by_model = f"coalesce(provider_from_model({model}), CASE WHEN {slash} THEN 'together' END)"
    url = x.get("$.base_url", "$.api_base", "$.url", "$.request.base_url", "$.request.url")
    explicit = f"nonempty({x.get('$.provider')})"
    if default_provider == "openrouter":
        provider = "'openrouter'"
    elif default_provider:
        provider = f"coalesce({explicit}, '{default_provider}')"
    else:
        # the Batch API is OpenAI's (or Azure's, named by the record or its URL)
        last = "'openai'" if batch else "NULL"
        provider = (
            f"coalesce({openrouter}, {explicit}, provider_from_url({url}), {vendor}, {by_model}, {last})"
        )
    tier = f"lower({b('service_tier')})"
    mode = "'batch'" if batch else f"CASE WHEN {tier} IN ('flex', 'priority') THEN {tier} END"
    return Spec(
        fields={
            "ts": f"coalesce(ts_any({x.get('$.timestamp', '$.start_time', '$.created_at')}), "
            f"ts_any({b('created')}), ts_any({b('created_at')}))",
            "provider": provider,
            "model": model,
            "input_tokens": f"toint(coalesce({b('usage.prompt_tokens')}, {b('usage.input_tokens')}))",
            "output_tokens": f"toint(coalesce({b('usage.completion_tokens')}, {b('usage.output_tokens')}))",
            # DeepSeek reports its cache hits as usage.prompt_cache_hit_tokens (part of prompt_tokens)
            "cached_input_tokens": f"coalesce(toint(coalesce({b('usage.prompt_tokens_details.cached_tokens')}, "
            f"{b('usage.input_tokens_details.cached_tokens')}, {b('usage.prompt_cache_hit_tokens')})), 0)",
            "cache_write_tokens": f"coalesce(toint({b('usage.prompt_tokens_details.cache_write_tokens')}), 0)",
            "reasoning_tokens": f"coalesce(toint(coalesce({b('usage.completion_tokens_details.reasoning_tokens')}, "
            f"{b('usage.output_tokens_details.reasoning_tokens')})), 0)",
            # OpenRouter puts what it charged in usage.cost (credits = USD)
            "logged_cost": f"TRY_CAST(coalesce({x.get('$.cost_usd', '$.cost')}, {b('usage.cost')}) AS DOUBLE)",
            "latency_ms": f"TRY_CAST({x.get('$.latency_ms', '$.duration_ms')} AS DOUBLE)",
            # batch lines: `error` set (batch_expired, ...) or a non-2xx response.status_code
            "status": f"""CASE WHEN nonempty({x.get("$.error", "$.response.body.error")}) IS NOT NULL
                          OR TRY_CAST({x.get("$.status_code", "$.response.status_code")} AS INT) >= 400
                          OR {b("status")} IN ('failed', 'incomplete', 'cancelled', 'expired') THEN 'error' ELSE 'ok' END""",
            "error": f"nonempty(coalesce({x.get('$.error.code', '$.error.type', '$.response.body.error.code', '$.response.body.error.type', '$.error')}, "
            f"CASE WHEN TRY_CAST({x.get('$.status_code', '$.response.status_code')} AS INT) >= 400 "
            f"THEN {x.get('$.status_code', '$.response.status_code')} END))",
            "request_id": f"coalesce({x.get('$.custom_id', '$.request_id', '$.response.request_id')}, {b('id')})",
            "trace_id": x.get("$.trace_id"),
            "session_id": x.get("$.session_id"),
            "user_id": x.get("$.user", "$.request.user"),
            "prompt_json": f"nonempty({x.get('$.request.messages', '$.request.input', '$.request.body.messages', '$.messages', '$.input')})",
            "prompt_hash_given": x.get("$.prompt_hash"),
            "has_tools": f"nonempty({x.get('$.request.tools', '$.request.body.tools')}) IS NOT NULL",
            "cache_hit": "false",
            # Chat Completions `choices`, else the Responses API `output` items (function_call
            # name and arguments, message text; call ids, item ids and reasoning left out)
            "reply_hash": f"coalesce({_chat_reply(b('choices'))}, {_responses_reply(b('output'))})",
            "price_mode": mode,
            # the last tool the reply called: Chat Completions message.tool_calls[].function.name,
            # Responses API output[] function_call items' name
            "tool_name": f"coalesce({last_name(b('choices'), '$[*].message.tool_calls[*].function.name')}, "
            f"{last_name(b('output'), '$[*].name')})",
        },
        meta_prefixes=["$.metadata", "$.request.metadata", "$.response.metadata"],
    )


def _chat_reply(choices: str) -> str:
    calls = (
        f"CAST(json_extract(CAST({choices} AS VARCHAR), '$[*].message.tool_calls[*].function') AS VARCHAR)"
    )
    return reply_hash(
        choices,
        calls,
        f"CAST(json_extract(CAST({choices} AS VARCHAR), '$[*].message.content') AS VARCHAR)",
        f"{calls} <> '[]'",
    )


def _responses_reply(output: str) -> str:
    def path(p: str) -> str:
        return f"CAST(json_extract(CAST({output} AS VARCHAR), '{p}') AS VARCHAR)"

    return reply_hash(
        output,
        f"{path('$[*].name')} || {path('$[*].arguments')}",
        path("$[*].content[*].text"),
        f"contains(CAST({output} AS VARCHAR), '\"function_call\"')",
    )


def _body(obj: dict[str, Any]) -> dict[str, Any]:
    for key in ("response",):
        inner = obj.get(key)
        if isinstance(inner, dict):
            body = inner.get("body")
            return body if isinstance(body, dict) else inner
    return obj


def _is_batch(obj: dict[str, Any]) -> bool:
    return "custom_id" in obj and "response" in obj and "result" not in obj


def _is_openai(obj: dict[str, Any]) -> bool:
    body = _body(obj)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return bool(usage) or body.get("object") in ("chat.completion", "response", "text_completion")


def _is_azure(obj: dict[str, Any]) -> bool:
    return "prompt_filter_results" in _body(obj) and _is_openai(obj)


def _is_openrouter(obj: dict[str, Any]) -> bool:
    body = _body(obj)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return "cost" in usage and "/" in str(body.get("model", ""))


register(
    Format(
        "openai-batch",
        "OpenAI Batch API output lines {custom_id, response: {status_code, body}, error} (batch rate)",
        spec=lambda x: _spec(x, batch=True),
        detect=_is_batch,
        order=20,
    ),
    Format(
        "azure-openai",
        "Azure OpenAI responses (provider azure; deployments mapped by llm.azure_deployments)",
        spec=lambda x: _spec(x, "azure"),
        detect=_is_azure,
        order=80,
    ),
    Format(
        "openrouter",
        "OpenRouter responses (vendor/model slugs, usage.cost)",
        spec=lambda x: _spec(x, "openrouter"),
        detect=_is_openrouter,
        order=81,
    ),
    Format(
        "openai",
        "OpenAI-shaped chat completions / Responses objects, bare or {request, response}; "
        "also Mistral, Groq, Together, DeepSeek, xAI, Fireworks (provider from the record)",
        spec=_spec,
        detect=_is_openai,
        order=90,
    ),
)
