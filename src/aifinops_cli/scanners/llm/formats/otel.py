# ruff: noqa: E501  (SQL text reads better unwrapped)
"""OpenTelemetry GenAI spans in OTLP JSON (semantic conventions 1.3x-1.41).

A file is ExportTraceServiceRequest objects, one per line (the collector's file exporter), or
one document `{"resourceSpans": [...]}` (pretty-printed or not), which the engine streams as an
array of ResourceSpans. Spans are read by DuckDB's typed JSON reader into STRUCTs, so a 200 MB
file never becomes one string in memory. OTLP JSON writes int64 values as strings.

Every GenAI operation is read. `chat`, `text_completion`, `generate_content` and `embeddings`
spans are requests. `execute_tool`, `invoke_agent` and `create_agent` spans, and any GenAI span
without token usage, are trace structure: counted, never malformed and never priced (an agent
span's token totals, where an instrumentation writes them, repeat its children's). A span with
`status.code` ERROR (2) or an `error.type` is a failed request, with zero tokens unless it
reports some.
"""

from __future__ import annotations

from aifinops_cli.scanners.llm.formats.core import CANONICAL, Format, q, register

VALUE = "STRUCT(stringValue VARCHAR, intValue VARCHAR, doubleValue VARCHAR, boolValue VARCHAR)"
ATTRS = f"STRUCT(key VARCHAR, value {VALUE})[]"
SPAN = (
    f"STRUCT(traceId VARCHAR, spanId VARCHAR, parentSpanId VARCHAR, name VARCHAR, "
    f"startTimeUnixNano VARCHAR, endTimeUnixNano VARCHAR, attributes {ATTRS}, "
    f"status STRUCT(code VARCHAR, message VARCHAR))"
)
RESOURCE_SPANS = f"STRUCT(resource STRUCT(attributes {ATTRS}), scopeSpans STRUCT(spans {SPAN}[])[])"
# one ResourceSpans (array layout) or one line; DuckDB allocates buffers of twice this size
MAX_OBJECT = 64 << 20
STRUCTURE_OPS = ("execute_tool", "invoke_agent", "create_agent")
PROVIDERS = {
    "aws.bedrock": "aws",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
}


def typed_source(path_literal: str, array: bool) -> str:
    """Rows of (line_no, rs ResourceSpans) read by the typed reader; `array`: the file is a JSON
    array of ResourceSpans (a `{"resourceSpans": [...]}` document cut down by the engine)."""
    if array:
        return (
            f"SELECT NULL::BIGINT AS line_no, {{'resource': resource, 'scopeSpans': scopeSpans}} AS rs "
            f"FROM read_json({path_literal}, format='array', maximum_object_size={MAX_OBJECT}, "
            f"columns={{'resource': {q('STRUCT(attributes ' + ATTRS + ')')}, "
            f"'scopeSpans': {q('STRUCT(spans ' + SPAN + '[])[]')}}})"
        )
    return (
        f"SELECT NULL::BIGINT AS line_no, unnest(resourceSpans) AS rs "
        f"FROM read_json({path_literal}, format='newline_delimited', maximum_object_size={MAX_OBJECT}, "
        f"columns={{'resourceSpans': {q(RESOURCE_SPANS + '[]')}}})"
    )


def _doc(array: bool) -> str:
    # array layout: each row of `src` is one ResourceSpans, wrapped back into a request
    return "'{\"resourceSpans\": [' || line || ']}'" if array else "line"


def lines_source(array: bool = False) -> str:
    """The same rows from `src(line_no, line)`, one line at a time: a broken line costs itself."""
    return (
        f"SELECT line_no, unnest(doc.resourceSpans) AS rs FROM ("
        f"SELECT line_no, TRY(json_transform({_doc(array)}, {q(_json_structure())})) AS doc FROM src "
        f"WHERE line IS NOT NULL AND trim(line) <> '') WHERE doc IS NOT NULL"
    )


def invalid_lines(array: bool = False) -> str:
    nulls = ", ".join("NULL" for _ in CANONICAL)
    return (
        f"SELECT line_no, true, {nulls}, 'not valid JSON' FROM src WHERE line IS NOT NULL AND trim(line) <> '' "
        f"AND TRY(json_transform({_doc(array)}, {q(_json_structure())})) IS NULL"
    )


def _json_structure() -> str:
    value = (
        '{"stringValue": "VARCHAR", "intValue": "VARCHAR", "doubleValue": "VARCHAR", "boolValue": "VARCHAR"}'
    )
    attrs = f'[{{"key": "VARCHAR", "value": {value}}}]'
    span = (
        f'{{"traceId": "VARCHAR", "spanId": "VARCHAR", "parentSpanId": "VARCHAR", "name": "VARCHAR", '
        f'"startTimeUnixNano": "VARCHAR", "endTimeUnixNano": "VARCHAR", "attributes": {attrs}, '
        f'"status": {{"code": "VARCHAR", "message": "VARCHAR"}}}}'
    )
    return f'{{"resourceSpans": [{{"resource": {{"attributes": {attrs}}}, "scopeSpans": [{{"spans": [{span}]}}]}}]}}'


def otel_select(attribute_keys: dict[str, list[str]], source: str, invalid: str | None = None) -> str:
    """Canonical rows from `source` (see `typed_source` / `lines_source`), plus `bad_reason`."""

    def a(*keys: str) -> str:
        return (
            "coalesce("
            + ", ".join(f"nonempty((list_filter(kv, lambda e: e.k = {q(k)})[1]).v)" for k in keys)
            + ")"
        )

    def attr(name: str) -> str:
        return a(*attribute_keys[name])

    kv = (
        "list_transform(coalesce(span.attributes, []) || coalesce(ra, []), "
        "lambda e: {'k': e.key, 'v': coalesce(e.value.stringValue, e.value.intValue, "
        "e.value.doubleValue, e.value.boolValue)})"
    )
    cr = f"coalesce(toint({a('gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens')}), 0)"
    cw = f"coalesce(toint({a('gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens')}), 0)"
    provider = a("gen_ai.provider.name", "gen_ai.system")
    mapped = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in PROVIDERS.items())
    op = f"lower({a('gen_ai.operation.name')})"
    in_tok = f"toint({a('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens')})"
    out_tok = f"toint({a('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens')})"
    failed = f"(span.status.code IN ('2', 'STATUS_CODE_ERROR') OR {a('error.type')} IS NOT NULL)"
    model = a("gen_ai.response.model", "gen_ai.request.model")
    tier = f"lower({a('openai.response.service_tier', 'gen_ai.openai.response.service_tier', 'openai.request.service_tier', 'gen_ai.openai.request.service_tier')})"
    structure = (
        f"(coalesce({op}, '') IN {STRUCTURE_OPS} OR ({in_tok} IS NULL AND {out_tok} IS NULL "
        f"AND NOT ({failed} AND {model} IS NOT NULL)))"
    )
    cols = {
        "ts": "ts_any(span.startTimeUnixNano)",
        "provider": f"CASE {provider} {mapped} ELSE {provider} END",
        "model": f"coalesce({model}, CASE WHEN {failed} THEN 'unknown' END)",
        "input_tokens": f"coalesce({in_tok}, CASE WHEN {failed} THEN 0 END)",
        # an embeddings span reports input only
        "output_tokens": f"coalesce({out_tok}, CASE WHEN {failed} OR {in_tok} IS NOT NULL THEN 0 END)",
        "cached_input_tokens": cr,
        "cache_write_tokens": cw,
        "cache_write_1h_tokens": "0",
        "reasoning_tokens": f"coalesce(toint({a('gen_ai.usage.reasoning.output_tokens')}), 0)",
        "logged_cost": f"TRY_CAST({a('gen_ai.usage.cost', 'llm.usage.cost', 'gen_ai.cost.usd')} AS DOUBLE)",
        "latency_ms": "(TRY_CAST(span.endTimeUnixNano AS HUGEINT) - TRY_CAST(span.startTimeUnixNano AS HUGEINT)) / 1e6",
        "status": f"CASE WHEN {failed} THEN 'error' ELSE 'ok' END",
        "error": f"CASE WHEN {failed} THEN coalesce({a('error.type')}, nonempty(span.status.message), 'ERROR') END",
        "request_id": f"coalesce({a('gen_ai.response.id')}, span.spanId)",
        "trace_id": "span.traceId",
        "session_id": attr("session_id"),
        "user_id": attr("user_id"),
        "team": attr("team"),
        "app": f"coalesce({attr('app')}, {a('gen_ai.agent.name')})",
        "feature": attr("feature"),
        "customer": attr("customer"),
        "outcome": attr("outcome"),
        "tool_name": "NULL",  # gen_ai.tool.name is on execute_tool spans (structure), not the reply
        "key_alias": attr("key_alias"),
        "prompt_json": f"nonempty({a('gen_ai.input.messages', 'gen_ai.prompt')})",
        "prompt_hash_given": a("prompt_hash", "aifinops.prompt_hash"),
        "has_tools": f"{a('gen_ai.tool.definitions', 'gen_ai.request.tools')} IS NOT NULL",
        "cache_hit": "false",
        "reply_hash": f"md5(nonempty({a('gen_ai.output.messages', 'gen_ai.completion')}))",
        "price_mode": f"CASE WHEN {tier} IN ('flex', 'priority') THEN {tier} END",
        "structure": structure,
    }
    typed = ",\n  ".join(f"TRY_CAST({cols[n]} AS {t}) AS {n}" for n, t in CANONICAL)
    sql = f"""
WITH src_rs AS ({source}),
-- only the resource's attributes travel with each span (never the whole ResourceSpans value)
ss AS (SELECT line_no, rs.resource.attributes AS ra, unnest(coalesce(rs.scopeSpans, [])) AS s FROM src_rs),
sp AS (SELECT line_no, ra, unnest(coalesce(s.spans, [])) AS span FROM ss),
kv AS (SELECT line_no, span, {kv} AS kv FROM sp),
c AS (SELECT line_no, false AS invalid,
  {typed}
  FROM kv WHERE len(list_filter(kv, lambda e: starts_with(e.k, 'gen_ai.'))) > 0)
SELECT *, CASE WHEN structure THEN NULL WHEN model IS NULL OR input_tokens IS NULL OR output_tokens IS NULL
               THEN 'gen_ai span without model or token usage' END AS bad_reason FROM c"""
    if invalid:
        sql += f"\nUNION ALL\n{invalid}"
    return sql


register(
    Format(
        "otel",
        "OTLP JSON ExportTraceServiceRequest with gen_ai.* span attributes (JSON lines or one document)",
        select=otel_select,
        order=0,
        detect=lambda obj: "resourceSpans" in obj,
    )
)
