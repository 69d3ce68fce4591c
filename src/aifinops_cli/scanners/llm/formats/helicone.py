"""Helicone request exports (`HeliconeRequest` rows from the request API or `@helicone/export`).

Tokens: `prompt_tokens`, `completion_tokens`, `prompt_cache_read_tokens`,
`prompt_cache_write_tokens`. Helicone stores the provider's own counts: for Anthropic (and
Bedrock) `prompt_tokens` excludes the cache tokens, which are added back; for OpenAI-style
providers it includes them. Custom properties (`Helicone-Property-<Name>` headers) are in
`request_properties`, with or without the header prefix; the session is `Helicone-Session-Id`.
`cost` / `costUSD` is Helicone's own cost, kept for comparison.
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, register

SESSION = '$.request_properties."Helicone-Session-Id"'


def _prop(x: Extract, *names: str) -> str:
    paths = []
    for name in names:
        for spelled in (name, f"Helicone-Property-{name}"):
            paths.append(f'$.request_properties."{spelled}"')
    return f"nonempty({x.get(*dict.fromkeys(paths))})"


def _spec(x: Extract) -> Spec:
    provider = f"lower(nonempty({x.get('$.provider')}))"
    cr = f"coalesce(toint({x.get('$.prompt_cache_read_tokens')}), 0)"
    cw = f"coalesce(toint({x.get('$.prompt_cache_write_tokens')}), 0)"
    prompt = f"toint({x.get('$.prompt_tokens')})"
    apart = f"{provider} IN ('anthropic', 'bedrock', 'aws')"
    status = f"TRY_CAST({x.get('$.response_status')} AS INT)"
    return Spec(
        fields={
            "ts": f"ts_any({x.get('$.request_created_at')})",
            "provider": provider,
            "model": f"nonempty(coalesce({x.get('$.model_override')}, {x.get('$.response_model')}, "
            f"{x.get('$.request_model')}, {x.get('$.model')}))",
            "input_tokens": f"CASE WHEN {apart} THEN {prompt} + {cr} + {cw} ELSE {prompt} END",
            "output_tokens": f"toint({x.get('$.completion_tokens')})",
            "cached_input_tokens": cr,
            "cache_write_tokens": cw,
            "reasoning_tokens": "0",
            "logged_cost": f"TRY_CAST(coalesce({x.get('$.cost')}, {x.get('$.costUSD')}) AS DOUBLE)",
            "latency_ms": f"TRY_CAST({x.get('$.delay_ms')} AS DOUBLE)",
            "status": f"CASE WHEN {status} >= 400 OR {status} < 0 THEN 'error' ELSE 'ok' END",
            "error": f"CASE WHEN {status} >= 400 OR {status} < 0 THEN CAST({status} AS VARCHAR) END",
            "request_id": x.get("$.request_id"),
            "trace_id": "NULL",
            "session_id": f"nonempty({x.get(SESSION, '$.session_id')})",
            "user_id": f"nonempty(coalesce({x.get('$.request_user_id')}, {x.get('$.helicone_user')}))",
            "team": _prop(x, "Team"),
            "app": _prop(x, "App"),
            "feature": _prop(x, "Feature"),
            "customer": _prop(x, "Customer"),
            "prompt_json": f"nonempty({x.get('$.request_body.messages')})",
            "prompt_hash_given": "NULL",
            "has_tools": f"nonempty({x.get('$.request_body.tools')}) IS NOT NULL",
            "cache_hit": "false",
        },
        meta_prefixes=["$.request_properties"],
    )


def _is_request(obj: dict[str, Any]) -> bool:
    return "request_id" in obj and (
        "request_model" in obj or "response_status" in obj or "request_created_at" in obj
    )


register(
    Format(
        "helicone",
        "Helicone request exports (HeliconeRequest rows)",
        spec=_spec,
        detect=_is_request,
        order=32,
    )
)
