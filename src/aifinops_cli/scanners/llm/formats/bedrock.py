# ruff: noqa: E501  (SQL text reads better unwrapped)
"""AWS Bedrock model invocation logs and batch inference output.

Invocation logs (`schemaType` ModelInvocationLog): `inputTokenCount` excludes cache reads and
writes, which are added back. Batch inference output lines `{recordId, modelInput, modelOutput}`
(or `error` in place of `modelOutput`) carry the InvokeModel or Converse response body: tokens
from its `usage` (Anthropic `input_tokens`/`output_tokens`, Converse `inputTokens`/`outputTokens`)
or Llama's counts; they bill at the batch rate. A batch line names its model only where the body
does (Anthropic bodies do); for the others (Converse, Titan) config `llm.bedrock_batch_models`
names the job's model (by job ARN, job id or path glob; the job's manifest has no model), and
without it a line is reported as having no model, with that hint.
"""

from __future__ import annotations

from typing import Any

from aifinops_cli.scanners.llm.formats.core import Extract, Format, Spec, last_name, register, reply_hash


def _tool(content: str) -> str:
    """The last tool the reply called: Converse `toolUse.name`, an Anthropic body's tool_use `name`."""
    return f"coalesce({last_name(content, '$[*].toolUse.name')}, {last_name(content, '$[*].name')})"


def _reply(content: str) -> str:
    """A reply's content blocks, Converse (`toolUse: {name, input}`, `text`) or an Anthropic body
    (`tool_use` blocks' `name` and `input`, `text`); tool-use ids left out."""

    def path(p: str) -> str:
        return f"CAST(json_extract(CAST({content} AS VARCHAR), '{p}') AS VARCHAR)"

    tools = f"{path('$[*].toolUse.name')} || {path('$[*].toolUse.input')} || {path('$[*].name')} || {path('$[*].input')}"
    text = f"CAST({content} AS VARCHAR)"
    return reply_hash(
        content,
        tools,
        path("$[*].text"),
        f"(contains({text}, '\"toolUse\"') OR contains({text}, '\"tool_use\"'))",
    )


def _invocation(x: Extract) -> Spec:
    model = x.get("$.modelId")
    cr = f"coalesce(toint({x.get('$.input.cacheReadInputTokenCount')}), 0)"
    cw = f"coalesce(toint({x.get('$.input.cacheWriteInputTokenCount')}), 0)"
    return Spec(
        fields={
            "ts": f"ts_any({x.get('$.timestamp')})",
            "provider": "'aws'",
            # model ARNs (arn:aws:bedrock:...:foundation-model/ID) carry the id after the last slash
            "model": f"CASE WHEN starts_with({model}, 'arn:') THEN split_part({model}, '/', -1) ELSE {model} END",
            # Bedrock's inputTokenCount excludes cache reads and writes: add them back.
            "input_tokens": f"toint(coalesce({x.get('$.input.inputTokenCount')}, "
            f"{x.get('$.output.outputBodyJson.usage.inputTokens')})) + {cr} + {cw}",
            "output_tokens": f"toint(coalesce({x.get('$.output.outputTokenCount')}, "
            f"{x.get('$.output.outputBodyJson.usage.outputTokens')}))",
            "cached_input_tokens": cr,
            "cache_write_tokens": cw,
            "reasoning_tokens": "0",
            "logged_cost": "NULL",
            "latency_ms": f"TRY_CAST({x.get('$.output.outputBodyJson.metrics.latencyMs')} AS DOUBLE)",
            "status": f"CASE WHEN nonempty({x.get('$.errorCode', '$.error')}) IS NOT NULL THEN 'error' ELSE 'ok' END",
            "error": f"nonempty({x.get('$.errorCode', '$.error')})",
            "request_id": x.get("$.requestId"),
            "trace_id": "NULL",
            "session_id": "NULL",
            "user_id": x.get("$.identity.arn"),
            "prompt_json": f"nonempty({x.get('$.input.inputBodyJson.messages', '$.input.inputBodyJson.prompt', '$.input.inputBodyJson')})",
            "prompt_hash_given": "NULL",
            "has_tools": f"nonempty({x.get('$.input.inputBodyJson.toolConfig', '$.input.inputBodyJson.tools')}) IS NOT NULL",
            "cache_hit": "false",
            "reply_hash": _reply(
                x.get("$.output.outputBodyJson.output.message.content", "$.output.outputBodyJson.content")
            ),
            "tool_name": _tool(
                x.get("$.output.outputBodyJson.output.message.content", "$.output.outputBodyJson.content")
            ),
        },
        meta_prefixes=["$.requestMetadata"],
    )


def _batch(x: Extract) -> Spec:
    def o(*paths: str) -> str:
        return x.get(*(f"$.modelOutput.{p}" for p in paths))

    cr = f"coalesce(toint({o('usage.cache_read_input_tokens', 'usage.cacheReadInputTokens')}), 0)"
    cw = f"coalesce(toint({o('usage.cache_creation_input_tokens', 'usage.cacheWriteInputTokens')}), 0)"
    failed = f"nonempty({x.get('$.error')}) IS NOT NULL"
    return Spec(
        fields={
            "ts": f"ts_any({x.get('$.timestamp')})",
            "provider": "'aws'",
            "model": f"nonempty({o('model')})",
            "input_tokens": f"toint(coalesce({o('usage.input_tokens', 'usage.inputTokens', 'inputTextTokenCount', 'prompt_token_count')})) + {cr} + {cw}",
            # Titan text bodies count output per result: results[].tokenCount
            "output_tokens": f"toint(coalesce({o('usage.output_tokens', 'usage.outputTokens', 'generation_token_count')}, "
            f"CASE WHEN {o('results')} IS NOT NULL THEN CAST(TRY(list_sum(CAST(json_extract("
            f"CAST({o('results')} AS VARCHAR), '$[*].tokenCount') AS BIGINT[]))) AS VARCHAR) END))",
            "cached_input_tokens": cr,
            "cache_write_tokens": cw,
            "reasoning_tokens": "0",
            "logged_cost": "NULL",
            "latency_ms": f"TRY_CAST({o('metrics.latencyMs')} AS DOUBLE)",
            "status": f"CASE WHEN {failed} THEN 'error' ELSE 'ok' END",
            "error": f"nonempty(coalesce({x.get('$.error.errorCode')}, {x.get('$.error')}))",
            "request_id": x.get("$.recordId"),
            "trace_id": "NULL",
            "session_id": "NULL",
            "user_id": "NULL",
            "prompt_json": f"nonempty({x.get('$.modelInput.messages', '$.modelInput.prompt', '$.modelInput.inputText')})",
            "prompt_hash_given": "NULL",
            "has_tools": f"nonempty({x.get('$.modelInput.tools', '$.modelInput.toolConfig')}) IS NOT NULL",
            "cache_hit": "false",
            "reply_hash": _reply(o("output.message.content", "content")),
            "tool_name": _tool(o("output.message.content", "content")),
            "price_mode": "'batch'",
        },
        missing_hint="; a Converse or Titan job's lines name no model: set llm.bedrock_batch_models",
    )


def _is_invocation(obj: dict[str, Any]) -> bool:
    return obj.get("schemaType") == "ModelInvocationLog" or {"modelId", "input", "output"} <= set(obj)


def _is_batch(obj: dict[str, Any]) -> bool:
    return "recordId" in obj and "modelInput" in obj


register(
    Format(
        "bedrock",
        "AWS Bedrock model invocation logs (JSON lines, usually .json.gz in S3)",
        spec=_invocation,
        detect=_is_invocation,
        order=10,
    ),
    Format(
        "bedrock-batch",
        "AWS Bedrock batch inference output {recordId, modelInput, modelOutput} (batch rate)",
        spec=_batch,
        detect=_is_batch,
        order=23,
    ),
)
