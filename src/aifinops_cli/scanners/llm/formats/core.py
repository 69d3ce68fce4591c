# ruff: noqa: E501  (SQL text reads better unwrapped)
"""The one request schema, the JSON-path machinery and the format registry.

Every file becomes rows of one JSON record each (CSV rows are turned into JSON objects by
DuckDB). Each format (one module per vendor family in this package, registered with `Format`)
pulls the fields it needs with ONE multi-path extract per record and maps them onto
`CANONICAL`. A record that is not JSON, or has no model or token counts, keeps its line number
and a `bad_reason` so it can be counted and reported without stopping the scan.

Token conventions differ by vendor (see docs in `/work/shared/reference`): in the canonical
schema `input_tokens` is the TOTAL input including cache reads and writes, and `output_tokens`
includes reasoning tokens, the way OpenAI and genai-prices count them. Vendors that report cache
or tool tokens apart (Anthropic, Bedrock, Gemini, Langfuse) add them back in their module.

`price_mode` is how the request was billed: NULL (standard), `batch`, `flex` or `priority`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The plain CSV (or flat JSON lines) for everything else. `input_tokens` includes cached tokens.
PLAIN_CSV_COLUMNS = (
    "timestamp",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "latency_ms",
    "status",
    "error",
    "request_id",
    "trace_id",
    "session_id",
    "user",
    "team",
    "app",
    "feature",
    "customer",
    "prompt_hash",
    "prompt",
    "outcome",  # optional: the unit economics' outcome rule `metadata`
    "tool_name",  # optional: the tool the reply called (outcome rule `tool`)
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
    ("price_mode", "VARCHAR"),  # NULL (standard) | batch | flex | priority
    ("structure", "BOOLEAN"),  # a trace/tool/agent record: kept for counting, not a request
    # outcome rules of the unit economics (economics/, README "Unit economics"): a metadata value
    # (`outcome` attribute keys below) and the name of the last tool the reply called, where the
    # format logs the reply (OpenAI chat/Responses, Anthropic, Gemini, Bedrock Converse)
    ("outcome", "VARCHAR"),
    ("tool_name", "VARCHAR"),
)

# Metadata keys searched for each attribute, first match wins; config `llm.attribute_keys`
# puts its own keys in front.
DEFAULT_ATTRIBUTE_KEYS: dict[str, list[str]] = {
    "team": [
        "team",
        "team_id",
        "team_alias",
        "user_api_key_team_alias",
        "user_api_key_team_id",
        "aifinops.team",
    ],
    "app": ["app", "app_name", "application", "service", "service.name", "aifinops.app"],
    "feature": ["feature", "feature_name", "use_case", "endpoint", "aifinops.feature"],
    "customer": ["customer", "customer_id", "tenant", "tenant_id", "end_user", "aifinops.customer"],
    "user_id": ["user", "user_id", "user_api_key_user_id", "enduser.id"],
    "session_id": ["session_id", "session", "conversation_id", "gen_ai.conversation.id", "thread_id"],
    "key_alias": ["user_api_key_alias", "api_key_alias", "key_alias"],
    "outcome": ["outcome", "task_outcome", "success", "task_success", "aifinops.outcome"],
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
-- the vendor that bills a model, from its id alone (NULL when the id does not say: the price
-- lookup then searches every provider rather than assuming OpenAI)
CREATE OR REPLACE MACRO provider_from_model(m) AS CASE
  WHEN m IS NULL THEN NULL
  WHEN starts_with(m, 'accounts/fireworks/') THEN 'fireworks'
  WHEN starts_with(lower(m), 'claude') THEN 'anthropic'
  WHEN starts_with(m, 'gpt-') OR starts_with(m, 'o1') OR starts_with(m, 'o3') OR starts_with(m, 'o4')
    OR starts_with(m, 'chatgpt') OR starts_with(m, 'ft:gpt') OR starts_with(m, 'text-embedding')
    OR starts_with(m, 'codex') THEN 'openai'
  WHEN starts_with(lower(m), 'gemini') THEN 'google'
  WHEN regexp_matches(lower(m), '^(mistral|mixtral|codestral|magistral|ministral|pixtral|devstral|open-mi[sx]tral|voxtral)')
    THEN 'mistral'
  WHEN starts_with(lower(m), 'deepseek') THEN 'deepseek'
  WHEN starts_with(lower(m), 'grok') THEN 'x-ai'
  WHEN starts_with(lower(m), 'command') THEN 'cohere'
  END;
-- the vendor behind an API base URL
CREATE OR REPLACE MACRO provider_from_url(u) AS CASE
  WHEN u IS NULL THEN NULL
  WHEN contains(u, 'openai.azure.com') OR contains(u, 'services.ai.azure.com') THEN 'azure'
  WHEN contains(u, 'openrouter.ai') THEN 'openrouter'
  WHEN contains(u, 'api.openai.com') THEN 'openai'
  WHEN contains(u, 'api.anthropic.com') THEN 'anthropic'
  WHEN contains(u, 'api.mistral.ai') THEN 'mistral'
  WHEN contains(u, 'api.groq.com') THEN 'groq'
  WHEN contains(u, 'api.together.') THEN 'together'
  WHEN contains(u, 'api.deepseek.com') THEN 'deepseek'
  WHEN contains(u, 'api.x.ai') THEN 'x-ai'
  WHEN contains(u, 'api.fireworks.ai') THEN 'fireworks'
  WHEN contains(u, 'googleapis.com') THEN 'google'
  WHEN contains(u, 'bedrock-runtime') THEN 'aws'
  END;
"""


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@functools.lru_cache(maxsize=4096)
def _path_parts(path: str) -> tuple[str, ...]:
    """`$.a."b.c".d` -> ("a", "b.c", "d")."""
    return tuple(p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', path[2:]))


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
    _tree_cache: tuple[dict[str, Any], set[tuple[str, ...]]] | None = field(default=None, repr=False)
    _tree_of: int = field(default=-1, repr=False)  # len(paths) when _tree_cache was built

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
        return list(_path_parts(path))

    def _tree(self) -> tuple[dict[str, Any], set[tuple[str, ...]]]:
        """The paths as a tree of keys, and the set of whole paths. Built once per set of paths
        (`paths` only grows): every expression asks for it, and rebuilding it each time made
        writing the SQL for a file cost more than DuckDB's reading of it (~150 ms per file)."""
        if self._tree_of == len(self.paths) and self._tree_cache is not None:
            return self._tree_cache
        tree: dict[str, Any] = {}
        leaves = {_path_parts(p) for p in self.paths}
        for path in self.paths:
            node = tree
            for key in _path_parts(path):
                node = node.setdefault(key, {})
        self._tree_cache, self._tree_of = (tree, leaves), len(self.paths)
        return tree, leaves

    def columns(self) -> str:
        """The `columns=` map for read_json: objects we look inside are STRUCTs, plain leaves
        VARCHAR (the reader writes nested values as their JSON text, numbers as digits), and a
        leaf we also look inside stays JSON. VARCHAR leaves need no second JSON parse."""
        tree, leaves = self._tree()

        def clashes(node: dict[str, Any], at: tuple[str, ...]) -> None:
            # DuckDB STRUCT field names are case-insensitive: an object asked for "Team" and
            # "team" is read as JSON text instead (json_extract_string is case-sensitive)
            if len({k.lower() for k in node}) != len(node):
                self.lazy.add(at)
                return
            for key, child in node.items():
                clashes(child, (*at, key))

        for key, child in tree.items():
            clashes(child, (key,))

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


def reply_hash(reply: str, tools: str, texts: str, has_tools: str) -> str:
    """md5 of a reply's tool calls (JSON text) if it made any (`has_tools`), else of its texts.

    Guarded by `reply` (the raw value) so records without one (most gateway logs) skip the
    JSON work: a CASE evaluates its branch only for the rows that reach it."""
    return (
        f"CASE WHEN {reply} IS NOT NULL THEN TRY(CASE WHEN {has_tools} THEN md5({tools}) "
        f"WHEN {texts} NOT IN ('[]', '[null]', '[\"\"]') THEN md5({texts}) END) END"
    )


def last_name(value: str, path: str) -> str:
    """The last non-null string at a JSON `path` with wildcards (e.g. a reply's tool-call names)
    in `value`, guarded like `reply_hash` so records without a reply skip the JSON work.

    The cast to a list is for a `value` that is a NULL constant (a key path the file's sample
    lacks): DuckDB 2 folds `json_extract_string(NULL, path)` to a plain VARCHAR, and without the
    cast `list_filter` cannot bind, which sent every such file to the slow line-by-line read."""
    extract = f"CAST(json_extract_string(CAST({value} AS VARCHAR), {q(path)}) AS VARCHAR[])"
    names = f"list_filter({extract}, lambda n: n IS NOT NULL)"
    return f"CASE WHEN {value} IS NOT NULL THEN TRY({names}[-1]) END"


@dataclass
class Spec:
    """A format's field expressions over the extracted values."""

    fields: dict[str, str]
    meta_prefixes: list[str] = field(default_factory=list)  # objects inside the record
    meta_texts: list[str] = field(default_factory=list)  # JSON texts to parse apart (SQL exprs)
    tags: str | None = None  # a JSON list of "key:value" strings
    required: tuple[str, ...] = ("model", "input_tokens", "output_tokens")
    # attribute values used only when no metadata key gives one (e.g. a team id after its alias)
    fallback: dict[str, str] = field(default_factory=dict)
    missing_hint: str = ""  # added to the "no model or token usage" reason (how to fix it)


@dataclass(frozen=True)
class Format:
    """One log shape. A vendor module lists its shapes in `FORMATS`; the package finds them.

    `detect` sees the first parsed JSON record of a file (a dict) and says whether it is this
    shape; `order` sets which shape is asked first (specific shapes before generic ones).
    `csv_header` does the same for a CSV file's lower-cased header names. `spec` maps a record
    onto the canonical schema; `select` instead builds the whole-file SQL (OTLP, one document
    holding many spans)."""

    name: str
    describe: str
    spec: Callable[[Extract], Spec] | None = None
    detect: Callable[[dict[str, Any]], bool] | None = None
    order: int = 50
    csv_header: Callable[[set[str]], bool] | None = None
    select: Callable[..., str] | None = None


REGISTRY: dict[str, Format] = {}


def register(*formats: Format) -> None:
    for fmt in formats:
        REGISTRY[fmt.name] = fmt


def _attr_expr(
    spec: Spec, x: Extract, name: str, keys: list[str], meta_lists: list[tuple[str, list[str]]]
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
    if spec.fallback.get(name):
        parts.append(spec.fallback[name])
    return f"coalesce({', '.join(parts)})" if parts else "NULL"


def json_select(
    fmt: str,
    attribute_keys: dict[str, list[str]],
    read_json: str | None = None,
    present: set[tuple[str, ...]] | None = None,
    json_format: str = "newline_delimited",
    model_default: str | None = None,
) -> str:
    """SQL turning a file into canonical columns plus `bad_reason`.

    With `read_json` (a file path literal) the file is read by DuckDB's typed JSON reader, which
    fails on the first malformed line (the caller then falls back); without it, from
    `src(line_no, line)` one line at a time. `present` (typed read only) prunes the read to the
    key paths sampled from the file; `invalid` is then true for records that have a value at a
    pruned path, and if any is, the caller must read the file again without `present`.
    `model_default` is the model of records that name none (a Bedrock batch job's, from config).
    """
    x = Extract()
    spec_fn = REGISTRY[fmt].spec
    assert spec_fn is not None, fmt
    spec = spec_fn(x)
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
    # failed calls (429, 5xx, expired batch lines) often carry no usage, and batch error lines no
    # model: they are requests with zero tokens, not garbage
    if model_default:
        cols["model"] = f"coalesce({cols['model']}, {q(model_default)})"
    failed = f"({cols['status']}) = 'error'"
    for tok in ("input_tokens", "output_tokens"):
        cols[tok] = f"coalesce({cols[tok]}, CASE WHEN {failed} THEN 0 END)"
    cols["model"] = f"coalesce({cols['model']}, CASE WHEN {failed} THEN 'unknown' END)"
    cols["structure"] = spec.fields.get("structure", "false")
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
        p = (
            f"SELECT NULL::BIGINT AS line_no, * FROM read_json({read_json}, "
            f"format={q(json_format)}, maximum_object_size=67108864, columns={x.columns()})"
        )
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
               WHEN structure THEN NULL
               WHEN {req} THEN {q(f"no model or token usage (not a {fmt} record?){spec.missing_hint}")} END AS bad_reason
FROM c"""
    return x.render(sql, typed=bool(read_json))
