# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Langfuse observation exports (API `/api/public/observations`, blob-storage exports).

GENERATION (and EMBEDDING) observations are requests; SPAN, EVENT, TOOL, AGENT and the other
types are trace structure, counted but not priced. `usageDetails` keys are exclusive buckets
named by the provider (`input`, `input_cached_tokens`, `cache_read_input_tokens`, `output`,
`output_reasoning_tokens`...): the canonical input is the sum of every key containing "input",
the output of every key containing "output". `costDetails.total` (or the sum of its parts) is
the logged cost. The model is `providedModelName` (as the caller named it), else `model`.
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, register

REQUEST_TYPES = ("GENERATION", "EMBEDDING")


def _bucket_sum(obj: str, *needles: str) -> str:
    """Sum of the integer values of a JSON object's keys containing any needle (NULL if none)."""
    cond = " OR ".join(f"contains(lower(k), '{n}')" for n in needles)
    return (
        f"list_sum(list_transform(list_filter(coalesce(TRY(json_keys({obj})), []), lambda k: {cond}), "
        f"lambda k: coalesce(toint(json_extract_string({obj}, '$.\"' || replace(k, '\"', '') || '\"')), 0)))"
    )


def _spec(x: Extract) -> Spec:
    usage = f"nonempty({x.get('$.usageDetails')})"
    costs = f"nonempty({x.get('$.costDetails')})"
    typ = f"upper(coalesce({x.get('$.type')}, 'GENERATION'))"
    inp = f"coalesce({_bucket_sum(usage, 'input', 'prompt')}, toint({x.get('$.promptTokens', '$.usage.input')}))"
    out = f"coalesce({_bucket_sum(usage, 'output', 'completion')}, toint({x.get('$.completionTokens', '$.usage.output')}))"
    model = f"nonempty(coalesce({x.get('$.providedModelName')}, {x.get('$.model')}))"
    return Spec(
        fields={
            "ts": f"ts_any({x.get('$.startTime', '$.timestamp')})",
            "provider": f"coalesce(nonempty({x.get('$.metadata.provider', '$.modelParameters.provider')}), provider_from_model({model}))",
            "model": model,
            "input_tokens": inp,
            "output_tokens": out,
            "cached_input_tokens": f"coalesce({_bucket_sum(usage, 'cache_read', 'cached')}, 0)",
            "cache_write_tokens": f"coalesce({_bucket_sum(usage, 'cache_creation', 'cache_write')}, 0)",
            "reasoning_tokens": f"coalesce({_bucket_sum(usage, 'reasoning')}, 0)",
            "logged_cost": f"coalesce(TRY_CAST(json_extract_string({costs}, '$.total') AS DOUBLE), "
            f"{_bucket_sum(costs, 'input', 'output')}::DOUBLE, "
            f"TRY_CAST({x.get('$.calculatedTotalCost', '$.totalCost')} AS DOUBLE))",
            "latency_ms": f"date_diff('millisecond', ts_any({x.get('$.startTime')}), ts_any({x.get('$.endTime')}))",
            "status": f"CASE WHEN upper(coalesce({x.get('$.level')}, '')) = 'ERROR' THEN 'error' ELSE 'ok' END",
            "error": f"CASE WHEN upper(coalesce({x.get('$.level')}, '')) = 'ERROR' THEN coalesce(nonempty({x.get('$.statusMessage')}), 'ERROR') END",
            "request_id": x.get("$.id"),
            "trace_id": x.get("$.traceId"),
            "session_id": x.get("$.sessionId"),
            "user_id": x.get("$.userId"),
            "prompt_json": f"nonempty({x.get('$.input')})",
            "prompt_hash_given": "NULL",
            "has_tools": "false",
            "cache_hit": "false",
            "structure": f"{typ} NOT IN {REQUEST_TYPES}",
        },
        meta_prefixes=["$.metadata"],
        tags=x.get("$.tags"),
    )


def _is_observation(obj: dict[str, Any]) -> bool:
    return "traceId" in obj and (
        "usageDetails" in obj
        or "providedModelName" in obj
        or str(obj.get("type", "")).upper() in ("GENERATION", "SPAN", "EVENT")
    )


register(
    Format(
        "langfuse",
        "Langfuse observation exports (GENERATION observations priced; spans are structure)",
        spec=_spec,
        detect=_is_observation,
        order=25,
    )
)
