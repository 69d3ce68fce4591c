# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Per-format normalisation into one request schema, written as DuckDB SQL.

Every file becomes rows of `(line_no, line)` where `line` is one JSON record (CSV rows are
turned into JSON objects by DuckDB). Each format then pulls the fields it needs with ONE
multi-path `json_extract_string` per record, so a record is parsed once, and maps them onto
`CANONICAL`. A record that is not JSON, or has no model or token counts, keeps its line number
and a `bad_reason` so it can be counted and reported without stopping the scan.

Token conventions differ by vendor (see docs in `/work/shared/reference`): in the canonical
schema `input_tokens` is the TOTAL input including cache reads and writes, and `output_tokens`
includes reasoning tokens, the way OpenAI and genai-prices count them. Anthropic and Bedrock
report cache tokens apart from `input_tokens`, so they are added back here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The plain CSV (or flat JSON lines) for everything else. `input_tokens` includes cached tokens.
PLAIN_CSV_COLUMNS = (
    "timestamp", "provider", "model", "input_tokens", "output_tokens", "cached_input_tokens",
    "cache_write_tokens", "reasoning_tokens", "cost_usd", "latency_ms", "status", "error",
    "request_id", "trace_id", "session_id", "user", "team", "app", "feature", "customer",
    "prompt_hash", "prompt",
)

CANONICAL: tuple[tuple[str, str], ...] = (
    ("ts", "TIMESTAMP"),
    ("provider", "VARCHAR"),
    ("model", "VARCHAR"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cached_input_tokens", "BIGINT"),
    ("cache_write_tokens", "BIGINT"),
    ("cache_write_1h_tokens", "BIGINT"),  # the part of cache_write_tokens written for 1 hour
    ("reasoning_tokens", "BIGINT"),
    ("logged_cost", "DOUBLE"),
    ("latency_ms", "DOUBLE"),
    ("status", "VARCHAR"),
    ("error", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("trace_id", "VARCHAR"),
    ("session_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("team", "VARCHAR"),
    ("app", "VARCHAR"),
    ("feature", "VARCHAR"),
    ("customer", "VARCHAR"),
    ("key_alias", "VARCHAR"),
    ("prompt_json", "VARCHAR"),
    ("prompt_hash_given", "VARCHAR"),
    ("has_tools", "BOOLEAN"),
    ("cache_hit", "BOOLEAN"),
    # md5 of what the model answered: its tool calls (name and arguments, no call ids) when it
    # made any, else its text; the loop finding's evidence where prompts are not logged
    ("reply_hash", "VARCHAR"),
)

# Metadata keys searched for each attribute, first match wins; config `llm.attribute_keys`
# puts its own keys in front.
DEFAULT_ATTRIBUTE_KEYS: dict[str, list[str]] = {
    "team": ["team", "team_id", "team_alias", "user_api_key_team_alias", "user_api_key_team_id",
             "aifinops.team"],
    "app": ["app", "app_name", "application", "service", "service.name", "aifinops.app"],
    "feature": ["feature", "feature_name", "use_case", "endpoint", "aifinops.feature"],
    "customer": ["customer", "customer_id", "tenant", "tenant_id", "end_user", "aifinops.customer"],
    "user_id": ["user", "user_id", "user_api_key_user_id", "enduser.id"],
    "session_id": ["session_id", "session", "conversation_id", "gen_ai.conversation.id", "thread_id"],
    "key_alias": ["user_api_key_alias", "api_key_alias", "key_alias"],
}

MACROS = """
CREATE OR REPLACE MACRO toint(x) AS TRY_CAST(TRY_CAST(x AS DOUBLE) AS BIGINT);
CREATE OR REPLACE MACRO ts_in_range(t) AS  -- no infinities; Python reads years past 9999 as text
  CASE WHEN t BETWEEN TIMESTAMP '0001-01-01' AND TIMESTAMP '9999-12-31 23:59:59.999999' THEN t END;
CREATE OR REPLACE MACRO ts_any(x) AS ts_in_range(coalesce(TRY_CAST(TRY_CAST(x AS TIMESTAMPTZ) AS TIMESTAMP), CASE
  WHEN TRY_CAST(x AS DOUBLE) IS NOT NULL THEN make_timestamp(TRY_CAST(  -- TRY: 1e300, inf, nan
       CASE WHEN x::DOUBLE > 1e17 THEN x::DOUBLE / 1000
            WHEN x::DOUBLE > 1e14 THEN x::DOUBLE
            WHEN x::DOUBLE > 1e11 THEN x::DOUBLE * 1000
            ELSE x::DOUBLE * 1000000 END AS BIGINT)) END));
CREATE OR REPLACE MACRO nonempty(x) AS CASE
  WHEN x IS NULL OR trim(x) IN ('', '[]', '{}', 'null', 'None') THEN NULL ELSE x END;
"""


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _key_path(prefix: str, key: str) -> str:
    return f'{prefix}."{key}"'


@dataclass
class Extract:
    """Collects JSON paths so a record is parsed once; `get` returns a placeholder for a value.

    The placeholders are filled in two ways (see `render`): the fast way reads the file with
    `read_json` and explicit STRUCT/JSON columns built from the paths (DuckDB's fastest JSON
    reader); the robust way reads raw lines and uses one multi-path `json_extract_string`, so a
    malformed line costs only itself.
    """

    paths: list[str] = field(default_factory=list)
    # objects read as raw JSON text by the typed reader (parsed only where a record has them)
    lazy: set[tuple[str, ...]] = field(default_factory=set)
    present: set[tuple[str, ...]] | None = None  # key paths sampled from the file (typed read)

    def get(self, *paths: str) -> str:
        exprs = []
        for path in paths:
            if path not in self.paths:
                self.paths.append(path)
            exprs.append(f"__P{self.paths.index(path)}__")
        return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"

    def sql(self) -> str:
        listed = ", ".join(q(p) for p in self.paths) or "'$'"
        return f"TRY(json_extract_string(line, [{listed}])) AS v"

    @staticmethod
    def _parts(path: str) -> list[str]:
        return [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', path[2:])]

    def _tree(self) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
        tree: dict[str, Any] = {}
        leaves = {tuple(self._parts(p)) for p in self.paths}
        for path in self.paths:
            node = tree
            for key in self._parts(path):
                node = node.setdefault(key, {})
        return tree, leaves

    def columns(self) -> str:
        """The `columns=` map for read_json: objects we look inside are STRUCTs, plain leaves
        VARCHAR (the reader writes nested values as their JSON text, numbers as digits), and a
        leaf we also look inside stays JSON. VARCHAR leaves need no second JSON parse."""
        tree, leaves = self._tree()

        def typ(node: dict[str, Any], at: tuple[str, ...]) -> str:
            if not node:
                return "VARCHAR"
            if at in leaves or at in self.lazy:
                return "JSON"
            fields = ", ".join('"' + k.replace('"', '""') + '" ' + typ(v, (*at, k)) for k, v in node.items())
            return f"STRUCT({fields})"

        return "{" + ", ".join(f"{q(k)}: {q(typ(v, (k,)))}" for k, v in tree.items()) + "}"

    def _typed_expr(self, path: str) -> str:
        _, leaves = self._tree()
        parts = self._parts(path)
        expr = '"' + parts[0].replace('"', '""') + '"'
        i = 1
        while i < len(parts) and tuple(parts[:i]) not in leaves and tuple(parts[:i]) not in self.lazy:
            expr += f"[{q(parts[i])}]"
            i += 1
        tree, _ = self._tree()
        node = tree
        for part in parts:
            node = node[part]
        if i == len(parts) and not node:  # a plain leaf, read as VARCHAR
            return expr
        rest = "".join(f'."{p}"' for p in parts[i:])
        return f"json_extract_string({expr}, {q('$' + rest)})"

    def make_lazy(self, present: set[tuple[str, ...]]) -> None:
        """Prune the typed read to the key paths a sample of the file has (`present`).

        Objects no sampled record has are read as JSON text (NULL, so cheap, where absent), and
        paths the sample lacks become NULL in the expressions; `guard()` is true for a record that
        has a value at any such path after all (json_select makes it the `invalid` flag), and the
        caller then reads the file again without pruning, so no record ever loses a field."""
        tree, _ = self._tree()

        def walk(node: dict[str, Any], at: tuple[str, ...]) -> None:
            for key, child in node.items():
                path = (*at, key)
                if not child:
                    continue
                if path not in present:
                    self.lazy.add(path)
                else:
                    walk(child, path)

        walk(tree, ())
        self.present = present

    def _pruned(self, path: str) -> bool:
        return self.present is not None and tuple(self._parts(path)) not in self.present

    def guard(self) -> str:
        """True where a record has a value at a pruned path (see `make_lazy`)."""
        _, leaves = self._tree()
        terms: list[str] = []
        for path in self.paths:
            if not self._pruned(path):
                continue
            parts = self._parts(path)
            i = next(i for i in range(1, len(parts) + 1) if tuple(parts[:i]) not in (self.present or ()))
            if tuple(parts[:i]) in self.lazy and not any(tuple(parts[:j]) in leaves for j in range(1, i)):
                # an object read as JSON text: any value there at all (no need to parse it)
                expr = '"' + parts[0].replace('"', '""') + '"' + "".join(f"[{q(k)}]" for k in parts[1:i])
            else:
                expr = self._typed_expr(path)
            terms.append(f"{expr} IS NOT NULL")
        terms = list(dict.fromkeys(terms))
        return " OR ".join(terms) if terms else "false"

    def render(self, sql: str, typed: bool) -> str:
        for i, path in enumerate(self.paths):
            if typed and self._pruned(path):
                expr = "NULL::VARCHAR"
            else:
                expr = self._typed_expr(path) if typed else f"v[{i + 1}]"
            sql = sql.replace(f"__P{i}__", expr)
        return sql


@dataclass
class Spec:
    """A format's field expressions over the extracted values."""

    fields: dict[str, str]
    meta_prefixes: list[str] = field(default_factory=list)  # objects inside the record
    meta_texts: list[str] = field(default_factory=list)  # JSON texts to parse apart (SQL exprs)
    tags: str | None = None  # a JSON list of "key:value" strings
    required: tuple[str, ...] = ("model", "input_tokens", "output_tokens")


def reply_hash(reply: str, tools: str, texts: str, has_tools: str) -> str:
    """md5 of a reply's tool calls (JSON text) if it made any (`has_tools`), else of its texts.

    Guarded by `reply` (the raw value) so records without one (most gateway logs) skip the
    JSON work: a CASE evaluates its branch only for the rows that reach it."""
    return (f"CASE WHEN {reply} IS NOT NULL THEN TRY(CASE WHEN {has_tools} THEN md5({tools}) "
            f"WHEN {texts} NOT IN ('[]', '[null]', '[\"\"]') THEN md5({texts}) END) END")


def _openai(x: Extract) -> Spec:
    """Chat completions and Responses objects: bare, wrapped as {request, response}, or batch."""
    bodies = ("$.response.body", "$.response", "$")

    def b(path: str) -> str:
        return x.get(*(f"{p}.{path}" for p in bodies))

    in_tok = b("usage.prompt_tokens")
    return Spec(
        fields={
            "ts": f"coalesce(ts_any({x.get('$.timestamp', '$.start_time', '$.created_at')}), "
                  f"ts_any({b('created')}), ts_any({b('created_at')}))",
            "provider": f"coalesce({x.get('$.provider')}, 'openai')",
            "model": f"coalesce({b('model')}, {x.get('$.request.model', '$.request.body.model')})",
            "input_tokens": f"toint(coalesce({in_tok}, {b('usage.input_tokens')}))",
            "output_tokens": f"toint(coalesce({b('usage.completion_tokens')}, {b('usage.output_tokens')}))",
            "cached_input_tokens": f"coalesce(toint(coalesce({b('usage.prompt_tokens_details.cached_tokens')}, "
                                   f"{b('usage.input_tokens_details.cached_tokens')})), 0)",
            "cache_write_tokens": f"coalesce(toint({b('usage.prompt_tokens_details.cache_write_tokens')}), 0)",
            "reasoning_tokens": f"coalesce(toint(coalesce({b('usage.completion_tokens_details.reasoning_tokens')}, "
                                f"{b('usage.output_tokens_details.reasoning_tokens')})), 0)",
            "logged_cost": f"TRY_CAST({x.get('$.cost_usd', '$.cost')} AS DOUBLE)",
            "latency_ms": f"TRY_CAST({x.get('$.latency_ms', '$.duration_ms')} AS DOUBLE)",
            "status": f"""CASE WHEN nonempty({x.get('$.error', '$.response.body.error')}) IS NOT NULL
                          OR TRY_CAST({x.get('$.status_code', '$.response.status_code')} AS INT) >= 400
                          OR {b('status')} IN ('failed', 'incomplete') THEN 'error' ELSE 'ok' END""",
            "error": f"nonempty(coalesce({x.get('$.error.code', '$.error.type', '$.error')}, "
                     f"{x.get('$.status_code')}))",
            "request_id": f"coalesce({x.get('$.custom_id', '$.request_id', '$.response.request_id')}, {b('id')})",
            "trace_id": x.get("$.trace_id"),
            "session_id": x.get("$.session_id"),
            "user_id": x.get("$.user", "$.request.user"),
            "prompt_json": f"nonempty({x.get('$.request.messages', '$.request.input', '$.request.body.messages', '$.messages', '$.input')})",
            "prompt_hash_given": x.get("$.prompt_hash"),
            "has_tools": f"nonempty({x.get('$.request.tools', '$.request.body.tools')}) IS NOT NULL",
            "cache_hit": "false",
            "reply_hash": reply_hash(
                b("choices"), f"CAST(json_extract(CAST({b('choices')} AS VARCHAR), '$[*].message.tool_calls[*].function') AS VARCHAR)",
                f"CAST(json_extract(CAST({b('choices')} AS VARCHAR), '$[*].message.content') AS VARCHAR)",
                f"CAST(json_extract(CAST({b('choices')} AS VARCHAR), '$[*].message.tool_calls[*].function') AS VARCHAR) <> '[]'"),
        },
        meta_prefixes=["$.metadata", "$.request.metadata", "$.response.metadata"],
    )


def _anthropic(x: Extract) -> Spec:
    def b(path: str) -> str:
        return x.get(f"$.response.{path}", f"$.{path}")

    cw = f"coalesce(toint({b('usage.cache_creation_input_tokens')}), 0)"
    cr = f"coalesce(toint({b('usage.cache_read_input_tokens')}), 0)"
    return Spec(
        fields={
            "ts": f"ts_any({x.get('$.timestamp', '$.start_time', '$.created_at')})",
            "provider": f"coalesce({x.get('$.provider')}, 'anthropic')",
            "model": f"coalesce({b('model')}, {x.get('$.request.model')})",
            # Anthropic's input_tokens exclude cache reads and writes: add them back.
            "input_tokens": f"toint({b('usage.input_tokens')}) + {cw} + {cr}",
            "output_tokens": f"toint({b('usage.output_tokens')})",
            "cached_input_tokens": cr,
            "cache_write_tokens": cw,
            # 1-hour cache writes bill at a higher rate than the default 5-minute ones
            "cache_write_1h_tokens": f"coalesce(toint({b('usage.cache_creation.ephemeral_1h_input_tokens')}), 0)",
            "reasoning_tokens": "0",
            "logged_cost": f"TRY_CAST({x.get('$.cost_usd', '$.cost')} AS DOUBLE)",
            "latency_ms": f"TRY_CAST({x.get('$.latency_ms', '$.duration_ms')} AS DOUBLE)",
            "status": f"CASE WHEN nonempty({x.get('$.error', '$.response.error')}) IS NOT NULL "
                      f"OR {b('type')} = 'error' OR TRY_CAST({x.get('$.status_code')} AS INT) >= 400 "
                      "THEN 'error' ELSE 'ok' END",
            "error": f"nonempty(coalesce({x.get('$.error.type', '$.response.error.type', '$.error')}, "
                     f"{x.get('$.status_code')}))",
            "request_id": f"coalesce({x.get('$.request_id')}, {b('id')})",
            "trace_id": x.get("$.trace_id"),
            "session_id": x.get("$.session_id"),
            "user_id": x.get("$.request.metadata.user_id", "$.user"),
            "prompt_json": f"nonempty({x.get('$.request.messages', '$.messages')})",
            "prompt_hash_given": x.get("$.prompt_hash"),
            "has_tools": f"nonempty({x.get('$.request.tools')}) IS NOT NULL",
            "cache_hit": "false",
            # tool_use blocks' name and input (text blocks add nulls, ids are left out)
            "reply_hash": reply_hash(
                b("content"), f"CAST(json_extract(CAST({b('content')} AS VARCHAR), '$[*].name') AS VARCHAR) || "
                f"CAST(json_extract(CAST({b('content')} AS VARCHAR), '$[*].input') AS VARCHAR)",
                f"CAST(json_extract(CAST({b('content')} AS VARCHAR), '$[*].text') AS VARCHAR)",
                f"contains(CAST({b('content')} AS VARCHAR), '\"tool_use\"')"),
        },
        meta_prefixes=["$.metadata", "$.request.metadata"],
    )


def _litellm_spend(x: Extract) -> Spec:
    """LiteLLM_SpendLogs rows. `metadata` may be an object (JSON) or a JSON string (CSV)."""
    meta = x.get("$.metadata")
    usage = f"TRY(json_extract_string({meta}, ['$.usage_object.prompt_tokens_details.cached_tokens', " \
            "'$.usage_object.cache_read_input_tokens', '$.usage_object.cache_creation_input_tokens', " \
            "'$.usage_object.completion_tokens_details.reasoning_tokens', '$.error_information.error_code']))"
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
            "team": f"nonempty({x.get('$.team_id')})",
            "customer": f"nonempty({x.get('$.end_user')})",
            "prompt_json": f"nonempty({x.get('$.messages')})",
            "prompt_hash_given": "NULL",
            "has_tools": "false",
            "cache_hit": f"lower(coalesce({x.get('$.cache_hit')}, '')) = 'true'",
        },
        meta_texts=[meta],
        tags=x.get("$.request_tags"),
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
        meta_prefixes=[f"{root}.metadata", "$.metadata", f"{root}.metadata.spend_logs_metadata",
                       "$.metadata.spend_logs_metadata"],
        tags=g("request_tags"),
    )


def _bedrock(x: Extract) -> Spec:
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
        },
        meta_prefixes=["$.requestMetadata"],
    )


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
        },
    )


JSON_FORMATS: dict[str, Callable[[Extract], Spec]] = {
    "openai": _openai,
    "openai-batch": _openai,
    "anthropic": _anthropic,
    "litellm-spend": _litellm_spend,
    "litellm-spend-csv": _litellm_spend,
    "litellm-payload": _litellm_payload,
    "bedrock": _bedrock,
    "csv": _plain,
}


def _attr_expr(spec: Spec, x: Extract, name: str, keys: list[str], meta_lists: list[tuple[str, list[str]]]
               ) -> str:
    parts: list[str] = []
    direct = spec.fields.get(name)
    if direct:
        parts.append(direct)
    for key in keys:
        for prefix in spec.meta_prefixes:
            parts.append(f"nonempty({x.get(_key_path(prefix, key))})")
        for alias, mkeys in meta_lists:
            parts.append(f"nonempty({alias}[{mkeys.index(key) + 1}])")
        if spec.tags:
            pattern = q('"' + key.replace(".", "\\.") + '[:=]([^"]+)"')
            parts.append(f"nullif(regexp_extract({spec.tags}, {pattern}, 1), '')")
    return f"coalesce({', '.join(parts)})" if parts else "NULL"


def json_select(fmt: str, attribute_keys: dict[str, list[str]], read_json: str | None = None,
                present: set[tuple[str, ...]] | None = None) -> str:
    """SQL turning a file into canonical columns plus `bad_reason`.

    With `read_json` (a file path literal) the file is read by DuckDB's typed JSON reader, which
    fails on the first malformed line (the caller then falls back); without it, from
    `src(line_no, line)` one line at a time. `present` (typed read only) prunes the read to the
    key paths sampled from the file; `invalid` is then true for records that have a value at a
    pruned path, and if any is, the caller must read the file again without `present`.
    """
    x = Extract()
    spec = JSON_FORMATS[fmt](x)
    # line by line, each metadata object is parsed apart once with all attribute keys; the typed
    # reader instead reads metadata objects as STRUCTs of the keys (no second parse at all)
    if not read_json:
        spec.meta_texts += [x.get(prefix) for prefix in spec.meta_prefixes]
        spec.meta_prefixes = []
    all_keys = sorted({k for keys in attribute_keys.values() for k in keys})
    meta_lists = [(f"m{i}", all_keys) for i, _ in enumerate(spec.meta_texts)]
    # meta texts are expressions over extracted values; they are parsed apart once in a second step
    cols: dict[str, str] = {}
    for name, _ in CANONICAL:
        if name in attribute_keys:
            cols[name] = _attr_expr(spec, x, name, attribute_keys[name], meta_lists)
        else:
            cols[name] = spec.fields.get(name, "NULL")
    # failed calls (429, 5xx) often carry no usage: they are requests with zero tokens, not garbage
    for tok in ("input_tokens", "output_tokens"):
        cols[tok] = f"coalesce({cols[tok]}, CASE WHEN ({cols['status']}) = 'error' THEN 0 END)"
    meta_cols = "".join(
        f", TRY(json_extract_string({text}, [{', '.join(q(_key_path('$', k)) for k in all_keys)}])) AS m{i}"
        for i, text in enumerate(spec.meta_texts)
    )
    typed = ",\n  ".join(f"TRY_CAST({cols[n]} AS {t}) AS {n}" for n, t in CANONICAL)
    req = " OR ".join(f"{r} IS NULL" for r in spec.required)
    if read_json:
        if present is not None:
            x.make_lazy(present)
        # no row_number() here (it serialises the read): the caller numbers rows by position.
        # 64 MB objects: with 16 MB the reader handed over batches smaller than a row group
        # (~78k rows), which the insert then copied again to merge (~5% of the load's CPU)
        p = (f"SELECT NULL::BIGINT AS line_no, * FROM read_json({read_json}, "
             f"format='newline_delimited', maximum_object_size=67108864, columns={x.columns()})")
        # pruned read: a record with a value at a pruned path is flagged `invalid`, and the caller
        # then reads the file again unpruned (an extra column for this made the insert serial)
        invalid = x.guard()
    else:
        p = f"SELECT line_no, {x.sql()} FROM src WHERE line IS NOT NULL AND trim(line) <> ''"
        invalid = "v IS NULL"
    sql = f"""
WITH p AS ({p}),
pm AS (SELECT *{meta_cols} FROM p),
c AS (SELECT line_no, {invalid} AS invalid,
  {typed}
  FROM pm)
SELECT *, CASE WHEN invalid THEN 'not valid JSON'
               WHEN {req} THEN 'no model or token usage (not a {fmt} record?)' END AS bad_reason
FROM c"""
    return x.render(sql, typed=bool(read_json))


def otel_select(attribute_keys: dict[str, list[str]]) -> str:
    """OTLP JSON: one ExportTraceServiceRequest per line; spans with gen_ai.* usage become rows."""

    def a(*keys: str) -> str:
        return "coalesce(" + ", ".join(
            f"nonempty((list_filter(kv, lambda e: e.k = {q(k)})[1]).v)" for k in keys) + ")"

    def attr(name: str) -> str:
        return a(*attribute_keys[name])

    kv = ("list_transform(coalesce(json_extract(span, '$.attributes[*]'), []) || "
          "coalesce(json_extract(r, '$.resource.attributes[*]'), []), "
          "lambda e: {'k': e->>'$.key', 'v': coalesce(e->>'$.value.stringValue', e->>'$.value.intValue', "
          "e->>'$.value.doubleValue', e->>'$.value.boolValue')})")
    cr = f"coalesce(toint({a('gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens')}), 0)"
    cw = f"coalesce(toint({a('gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens')}), 0)"
    provider = a("gen_ai.provider.name", "gen_ai.system")
    cols = {
        "ts": "ts_any(span->>'$.startTimeUnixNano')",
        "provider": f"CASE {provider} WHEN 'aws.bedrock' THEN 'aws' WHEN 'gcp.vertex_ai' THEN 'google' "
                    f"WHEN 'gcp.gemini' THEN 'google' WHEN 'gcp.gen_ai' THEN 'google' "
                    f"WHEN 'azure.ai.openai' THEN 'azure' ELSE {provider} END",
        "model": a("gen_ai.response.model", "gen_ai.request.model"),
        "input_tokens": f"toint({a('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens')})",
        "output_tokens": f"toint({a('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens')})",
        "cached_input_tokens": cr,
        "cache_write_tokens": cw,
        "cache_write_1h_tokens": "0",
        "reasoning_tokens": f"coalesce(toint({a('gen_ai.usage.reasoning.output_tokens')}), 0)",
        "logged_cost": f"TRY_CAST({a('gen_ai.usage.cost', 'llm.usage.cost', 'gen_ai.cost.usd')} AS DOUBLE)",
        "latency_ms": "(TRY_CAST(span->>'$.endTimeUnixNano' AS HUGEINT) - "
                      "TRY_CAST(span->>'$.startTimeUnixNano' AS HUGEINT)) / 1e6",
        "status": f"CASE WHEN span->>'$.status.code' IN ('2', 'STATUS_CODE_ERROR') OR {a('error.type')} IS NOT NULL "
                  "THEN 'error' ELSE 'ok' END",
        "error": f"coalesce({a('error.type')}, nonempty(span->>'$.status.message'))",
        "request_id": f"coalesce({a('gen_ai.response.id')}, span->>'$.spanId')",
        "trace_id": "span->>'$.traceId'",
        "session_id": attr("session_id"),
        "user_id": attr("user_id"),
        "team": attr("team"),
        "app": f"coalesce({attr('app')}, {a('gen_ai.agent.name')})",
        "feature": attr("feature"),
        "customer": attr("customer"),
        "key_alias": attr("key_alias"),
        "prompt_json": f"nonempty({a('gen_ai.input.messages', 'gen_ai.prompt')})",
        "prompt_hash_given": a("prompt_hash", "aifinops.prompt_hash"),
        "has_tools": f"{a('gen_ai.tool.definitions', 'gen_ai.request.tools')} IS NOT NULL",
        "cache_hit": "false",
        "reply_hash": f"md5(nonempty({a('gen_ai.output.messages', 'gen_ai.completion')}))",
    }
    typed = ",\n  ".join(f"TRY_CAST({cols[n]} AS {t}) AS {n}" for n, t in CANONICAL)
    return f"""
WITH j AS (SELECT line_no, TRY(CAST(line AS JSON)) AS doc FROM src WHERE line IS NOT NULL AND trim(line) <> ''),
rs AS (SELECT line_no, unnest(coalesce(json_extract(doc, '$.resourceSpans[*]'), [])) AS r FROM j WHERE doc IS NOT NULL),
ss AS (SELECT line_no, r, unnest(coalesce(json_extract(r, '$.scopeSpans[*]'), [])) AS s FROM rs),
sp AS (SELECT line_no, r, unnest(coalesce(json_extract(s, '$.spans[*]'), [])) AS span FROM ss),
kv AS (SELECT line_no, span, {kv} AS kv FROM sp),
c AS (SELECT line_no, false AS invalid,
  {typed}
  FROM kv WHERE len(list_filter(kv, lambda e: starts_with(e.k, 'gen_ai.'))) > 0)
SELECT *, CASE WHEN model IS NULL OR input_tokens IS NULL OR output_tokens IS NULL
               THEN 'gen_ai span without model or token usage' END AS bad_reason FROM c
UNION ALL
SELECT line_no, true, {', '.join('NULL' for _ in CANONICAL)}, 'not valid JSON' FROM j WHERE doc IS NULL"""
