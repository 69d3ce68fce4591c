# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Google Gemini API and Vertex AI `generateContent` responses, and their batch outputs.

`usageMetadata` (google-genai `UsageMetadata`): `promptTokenCount` already includes
`cachedContentTokenCount`; `toolUsePromptTokenCount` (tool results fed back as input) and
`thoughtsTokenCount` (billed as output) are counted apart, so the canonical input is
prompt + tool-use and the output candidates + thoughts. The model is `modelVersion`
(Vertex batch writes `gemini-2.0-flash-001@default`: the `@` suffix is dropped).

Batch outputs are priced at the batch rate: Vertex batch prediction lines
`{status, processed_time, request, response}` (a non-empty `status` is the error of a failed
line) and Gemini API batch result lines `{key, response}` (or `{key, error}`).
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, last_name, register, reply_hash


def _spec(x: Extract, batch: bool = False) -> Spec:
    def b(path: str) -> str:
        return x.get(f"$.response.{path}", f"$.{path}")

    def u(name: str) -> str:
        return f"coalesce(toint({b('usageMetadata.' + name)}), 0)"

    prompt = f"toint({b('usageMetadata.promptTokenCount')})"
    out = f"toint({b('usageMetadata.candidatesTokenCount')})"
    model = (
        f"regexp_replace(coalesce({b('modelVersion')}, {x.get('$.model', '$.request.model')}), '@.*$', '')"
    )
    failed = (
        f"nonempty({x.get('$.error', '$.response.error')}) IS NOT NULL OR "
        f"nonempty({x.get('$.status')}) IS NOT NULL AND {x.get('$.status')} NOT IN ('OK', 'ok', 'SUCCEEDED')"
        if batch
        else f"nonempty({x.get('$.error', '$.response.error')}) IS NOT NULL "
        f"OR TRY_CAST({x.get('$.status_code')} AS INT) >= 400"
    )
    return Spec(
        fields={
            "ts": f"coalesce(ts_any({x.get('$.timestamp', '$.processed_time')}), ts_any({b('createTime')}))",
            "provider": f"coalesce(nonempty({x.get('$.provider')}), 'google')",
            "model": model,
            # a response with candidates but no candidatesTokenCount (empty answer) produced 0
            "input_tokens": f"{prompt} + {u('toolUsePromptTokenCount')}",
            "output_tokens": f"CASE WHEN {prompt} IS NOT NULL THEN coalesce({out}, 0) + {u('thoughtsTokenCount')} END",
            "cached_input_tokens": u("cachedContentTokenCount"),
            "cache_write_tokens": "0",
            "reasoning_tokens": u("thoughtsTokenCount"),
            "logged_cost": f"TRY_CAST({x.get('$.cost_usd', '$.cost')} AS DOUBLE)",
            "latency_ms": f"TRY_CAST({x.get('$.latency_ms', '$.duration_ms')} AS DOUBLE)",
            "status": f"CASE WHEN {failed} THEN 'error' ELSE 'ok' END",
            "error": f"nonempty(coalesce({x.get('$.error.code', '$.error.status', '$.response.error.status', '$.error')}, "
            f"CASE WHEN {x.get('$.status')} NOT IN ('OK', 'ok', 'SUCCEEDED') THEN nonempty({x.get('$.status')}) END))",
            "request_id": f"coalesce({x.get('$.key', '$.request_id')}, {b('responseId')})",
            "trace_id": x.get("$.trace_id"),
            "session_id": x.get("$.session_id"),
            "user_id": x.get("$.user"),
            "prompt_json": f"nonempty({x.get('$.request.contents', '$.contents')})",
            "prompt_hash_given": x.get("$.prompt_hash"),
            "has_tools": f"nonempty({x.get('$.request.tools')}) IS NOT NULL",
            "cache_hit": "false",
            "reply_hash": _reply(b("candidates")),
            "tool_name": last_name(b("candidates"), "$[*].content.parts[*].functionCall.name"),
            "price_mode": "'batch'" if batch else "NULL",
        },
        meta_prefixes=["$.metadata", "$.labels", "$.request.labels"],
    )


def _reply(candidates: str) -> str:
    """The answer's functionCall parts (name and args; the optional call id left out), else its
    text parts: the loop evidence where prompts are not logged."""

    def path(p: str) -> str:
        return f"CAST(json_extract(CAST({candidates} AS VARCHAR), '{p}') AS VARCHAR)"

    parts = "$[*].content.parts[*]"
    return reply_hash(
        candidates,
        f"{path(parts + '.functionCall.name')} || {path(parts + '.functionCall.args')}",
        path(parts + ".text"),
        f"contains(CAST({candidates} AS VARCHAR), '\"functionCall\"')",
    )


def _usage_holder(obj: dict[str, Any]) -> bool:
    body = obj.get("response") if isinstance(obj.get("response"), dict) else obj
    return isinstance(body.get("usageMetadata"), dict) or ("candidates" in body and "modelVersion" in body)


def _is_batch(obj: dict[str, Any]) -> bool:
    if "processed_time" in obj and ("response" in obj or "status" in obj):
        return True  # Vertex AI batch prediction output
    return (
        "key" in obj
        and (("response" in obj and _usage_holder(obj)) or "error" in obj)
        and "custom_id" not in obj
    )


register(
    Format(
        "gemini-batch",
        "Vertex AI batch prediction / Gemini API batch output lines (batch rate)",
        spec=lambda x: _spec(x, batch=True),
        detect=_is_batch,
        order=22,
    ),
    Format(
        "gemini",
        "Google Gemini API / Vertex AI generateContent responses (usageMetadata), bare or wrapped",
        spec=_spec,
        detect=_usage_holder,
        order=60,
    ),
)
