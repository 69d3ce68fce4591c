# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Load logs into DuckDB and price them with one join.

DuckDB works with a memory limit and a temporary directory, so memory stays flat whatever the
size of the logs (it spills to disk). Python only sees aggregates.

Records are stored once: `raw` keeps compact per-record facts (prompt hashes, not the
prompt), and `req` is a VIEW joining them with the small price table, so each analysis pays a
cheap hash join instead of the scan copying every record a second time (tried: copying cost
more than the joins it saved). `req_premium` adds the cheaper model's prices for the one
analysis that needs them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from aifinops_cli.scanners.llm import formats
from aifinops_cli.scanners.llm.inputs import FORMATS, LogFile, detect, sample_key_paths
from aifinops_cli.scanners.llm.pricing import PRICE_COLUMNS, PriceBook, Tiers, cost_sql

CLASSIFY_RE = (r"classif|categori[sz]|sentiment|\blabel\b|extract|yes or no|true or false|"
               r"which (one|category)|respond with only|one word|is this (spam|toxic)|detect the language|"
               r"return json with|tag (the|this)")
COMPLEX_RE = r"```|step by step|explain why|analy[sz]e|write an? |prove|refactor|debug|plan the|essay"


@dataclass
class FileOutcome:
    file: LogFile
    fmt: str | None
    rows: int = 0
    bad: int = 0
    error: str = ""


@dataclass
class Settings:
    attribute_keys: dict[str, list[str]]
    show_prompts: bool = False
    forced_format: str | None = None
    simple_max_input_tokens: int = 1000
    simple_max_output_tokens: int = 300
    simple_max_messages: int = 2
    key_aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    memory_limit: str = "600MB"
    database: str = "memory"  # or "file": a DuckDB file in the work dir


class Engine:
    def __init__(self, settings: Settings, workdir: Path | None = None) -> None:
        self.settings = settings
        self._tmp = tempfile.TemporaryDirectory(prefix="aifinops-llm-")
        self.workdir = Path(workdir or self._tmp.name)
        # In memory by default: writing a database file made loading ~40% slower and serial;
        # with memory_limit and temp_directory the in-memory tables spill to disk all the same,
        # so memory stays bounded (1M requests ~780 MiB peak, 5M ~830 MiB).
        self.con = duckdb.connect(str(self.workdir / "llm.duckdb") if settings.database == "file" else ":memory:")
        threads = max(1, min(os.cpu_count() or 1, 8))
        self.con.execute(f"SET memory_limit='{settings.memory_limit}'; SET threads={threads}; "
                         f"SET temp_directory='{self.workdir / 'spill'}'; SET TimeZone='UTC'")
        self.con.execute(formats.MACROS)
        cols = ", ".join(f"{n} {t}" for n, t in formats.CANONICAL if n not in ("prompt_json", "prompt_hash_given"))
        # the prompt itself is not kept (unless --show-prompts): only what the analyses need of it
        self.con.execute(f"CREATE TABLE raw (part INTEGER, line_no BIGINT, invalid BOOLEAN, "
                         f"{cols}, bad_reason VARCHAR, prompt_hash VARCHAR, last_msg_hash UBIGINT, "
                         "n_messages BIGINT, text_known BOOLEAN, hint VARCHAR, prompt_text VARCHAR)")
        # one row per file, not per record: its name and format and, for files read by the typed
        # reader (no line numbers), `base`: their rows are numbered from their position in `raw`
        # (inserts keep file order), `rowid - base + 1`
        self.con.execute("CREATE TABLE parts (part INTEGER, file VARCHAR, fmt VARCHAR, base BIGINT)")
        self._n = 0

    def _derive(self, body: str) -> str:
        """Per-record prompt facts, computed while loading so the prompt text is never stored.

        The prompt's shape (`hint`, `n_messages`) matters only for a request small enough to be
        simple, so it is read only there: the regexes' cost no longer grows with long prompts.
        `last_msg_hash` only groups a session's calls, so it is DuckDB's 64-bit hash, not a
        stored md5 string."""
        text = "prompt_json" if self.settings.show_prompts else "NULL::VARCHAR"
        small = self._small_sql()
        return f"""SELECT * EXCLUDE (prompt_json, prompt_hash_given),
  coalesce(prompt_hash_given, md5(prompt_json)) AS prompt_hash,
  CASE WHEN coalesce(session_id, trace_id) IS NOT NULL AND prompt_json IS NOT NULL  -- hash(NULL) is not NULL
       THEN hash(coalesce(TRY(json_extract_string(prompt_json, '$[#-1]')), prompt_json)) END AS last_msg_hash,
  CASE WHEN {small} THEN TRY(json_array_length(prompt_json)) END AS n_messages,
  prompt_json IS NOT NULL AS text_known,
  CASE WHEN prompt_json IS NULL OR NOT ({small}) THEN NULL
       -- lower(), not the regex's 'i' flag: the two fold some non-ASCII letters differently
       WHEN regexp_matches(lower(prompt_json), {formats.q(COMPLEX_RE)}) THEN 'complex'
       WHEN regexp_matches(lower(prompt_json), {formats.q(CLASSIFY_RE)}) THEN 'classify-extract'
       ELSE 'other' END AS hint,
  {text} AS prompt_text
FROM ({body})"""

    def _small_sql(self, r: str = "") -> str:
        """Tokens and tools within the simple-request limits (columns prefixed `r`)."""
        s = self.settings
        return (f"{r}input_tokens <= {int(s.simple_max_input_tokens)} AND {r}output_tokens <= "
                f"{int(s.simple_max_output_tokens)} AND NOT coalesce({r}has_tools, false)")

    @staticmethod
    def line_no_sql(alias: str) -> str:
        a = f"{alias}."
        return (f"coalesce({a}line_no, {a}rowid - (SELECT base FROM parts fb WHERE fb.part = {a}part) + 1)")

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._tmp.cleanup()

    # --- loading ------------------------------------------------------------------------------
    def _src_sql(self, file: LogFile, layout: str) -> tuple[str, str | None]:
        path = formats.q(file.path)
        self._n += 1
        if layout == "csv":
            rej = f"rej_{self._n}"
            return (f"SELECT (row_number() OVER ()) + 1 AS line_no, CAST(to_json(t) AS VARCHAR) AS line "
                    f"FROM read_csv({path}, header=true, all_varchar=true, store_rejects=true, "
                    f"rejects_table='{rej}', rejects_scan='{rej}_scan') t"), rej
        if layout == "document":
            return (f"SELECT row_number() OVER () AS line_no, CAST(json AS VARCHAR) AS line "
                    f"FROM read_json({path}, format='auto', records=false, "
                    f"maximum_object_size=1073741824)"), None
        return (f"SELECT row_number() OVER () AS line_no, line FROM read_csv({path}, "
                "columns={'line': 'VARCHAR'}, delim=chr(1), quote='', escape='', header=false, "
                "auto_detect=false, max_line_size=16777216, buffer_size=33554432, strict_mode=false)"), None

    def load(self, file: LogFile) -> FileOutcome:
        try:
            fmt, layout = detect(file)
        except (OSError, EOFError) as exc:
            return FileOutcome(file, None, error=f"cannot read: {exc}")
        detected = fmt
        if self.settings.forced_format:
            fmt = self.settings.forced_format
            if fmt not in FORMATS:
                return FileOutcome(file, fmt, error=f"unknown --llm-log-format {fmt!r}; choose from "
                                                    + ", ".join(FORMATS))
            if fmt in ("csv", "litellm-spend-csv") and layout != "csv" and detected is None:
                layout = "csv"
        if fmt is None:
            return FileOutcome(file, None, error="unrecognised log format (use --llm-log-format; "
                                                 "formats: " + ", ".join(FORMATS) + ")")
        self._n += 1
        part = self._n
        self.con.execute("INSERT INTO parts VALUES (?, ?, ?, NULL)", [part, file.display, fmt])
        head = f"INSERT INTO raw SELECT {part}, * FROM "
        done = False
        if layout == "lines" and fmt != "otel":
            # fast path: DuckDB's typed JSON reader; any malformed line makes it fail as a whole.
            # No row_number() here: it would make the whole read single-threaded.
            # First read only the key paths a sample of the file has (much less to parse and
            # coalesce); if any record has a value elsewhere after all, read it again in full.
            present = sample_key_paths(file)
            base = self.con.execute("SELECT count(*) FROM raw").fetchone()[0]
            for attempt in ([present, None] if present is not None else [None]):
                fast = formats.json_select(fmt, self.settings.attribute_keys, read_json=formats.q(file.path),
                                           present=attempt)
                try:
                    self.con.execute("BEGIN")
                    self.con.execute(head + f"({self._derive(fast)})")
                    if attempt is not None and self.con.execute(
                            "SELECT count(*) FROM raw WHERE part = ? AND invalid", [part]).fetchone()[0]:
                        self.con.execute("ROLLBACK")
                        continue
                    self.con.execute("UPDATE parts SET base = ? WHERE part = ?", [base, part])
                    self.con.execute("COMMIT")
                    done = True
                except duckdb.Error:
                    self.con.execute("ROLLBACK")
                break
        if not done:
            src, rej = self._src_sql(file, layout)
            body = (formats.otel_select(self.settings.attribute_keys) if fmt == "otel"
                    else formats.json_select(fmt, self.settings.attribute_keys))
            try:
                self.con.execute(f"INSERT INTO raw WITH src AS ({src}) SELECT {part}, "
                                 f"* FROM ({self._derive(body)})")
            except duckdb.Error as exc:
                message = str(exc).split("\n")[0]
                return FileOutcome(file, fmt, error=f"cannot parse as {fmt}: {message}")
        else:
            rej = None
        rows, bad = self.con.execute(
            "SELECT count(*), count(bad_reason) FROM raw WHERE part = ?", [part]).fetchone()
        if rej:
            rejected = self.con.execute(
                f"SELECT line, error_message FROM {rej} ORDER BY line").fetchall()
            for line, message in rejected:
                self.con.execute("INSERT INTO raw (part, line_no, invalid, bad_reason) VALUES (?, ?, true, ?)",
                                 [part, line, f"CSV: {message.splitlines()[0]}"])
            bad += len(rejected)
            rows += len(rejected)
        out = FileOutcome(file, fmt, rows=rows, bad=bad)
        if rows and bad == rows and self.settings.forced_format and detected != fmt:
            out.error = (f"no record is a {fmt} record" + (f" (the file looks like {detected})" if detected
                                                          else ""))
        return out

    def bad_examples(self, limit: int = 5) -> list[tuple[str, int, str]]:
        return self.con.execute(
            f"SELECT p.file, {self.line_no_sql('r')} AS n, bad_reason FROM raw r JOIN parts p USING (part) "
            "WHERE bad_reason IS NOT NULL ORDER BY p.file, n LIMIT ?", [limit]).fetchall()

    # --- pricing ------------------------------------------------------------------------------
    def _small_table(self, name: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
        """A typed table from Python rows, one list per column: registering Arrow tables would
        import pandas (~0.3 s), and a placeholder per value gets slow with many price rows."""
        self.con.execute(f"CREATE OR REPLACE TABLE {name} ("
                         + ", ".join(f"{c} {t}" for c, t in columns) + ")")
        if rows:
            self.con.execute(f"INSERT INTO {name} SELECT "
                             + ", ".join(f"unnest(?::{t}[])" for _, t in columns),
                             [[r.get(c) for r in rows] for c, _ in columns])

    def price(self, book: PriceBook, tiers: Tiers) -> None:
        """Build the price table for what was seen; the `req` view joins it over all records."""
        s = self.settings
        seen = self.con.execute(
            "SELECT coalesce(provider, ''), model, CAST(ts AS DATE) AS d FROM raw "
            "WHERE bad_reason IS NULL GROUP BY ALL").fetchall()
        models = {(p, m) for p, m, _ in seen}
        days_by_model: dict[tuple[str, str], set[date]] = {}
        for p, m, d in seen:
            days_by_model.setdefault((p, m), set()).add(d or date(1970, 1, 1))
        wanted = [(p, m, d) for (p, m), ds in days_by_model.items() for d in sorted(ds)]
        # cheaper pairs for premium models, priced on the same days
        pairs: list[dict[str, Any]] = []
        for p, m in sorted(models):
            res, _ = book.resolve(p, m)
            cheaper = tiers.cheaper_for(p, m, res.priced_as)
            if cheaper:
                pairs.append({"provider": p, "model": m, "cheaper": cheaper})
                wanted += [(p, cheaper, d) for d in sorted(days_by_model[(p, m)])]
        rows = book.rows(sorted(set(wanted), key=lambda t: (t[0], t[1], t[2])))
        alias_rows = [{"alias": k, **{c: v.get(c) for c in ("team", "app", "customer", "feature")}}
                      for k, v in s.key_aliases.items()]
        self._small_table("prices", [("provider", "VARCHAR"), ("model", "VARCHAR"), ("day", "DATE"),
                                     ("priced_as", "VARCHAR"), ("source", "VARCHAR"),
                                     ("band_lo", "BIGINT"), ("band_hi", "BIGINT"),
                                     *[(c, "DOUBLE") for c in PRICE_COLUMNS],
                                     ("price_from", "VARCHAR"), ("discount_pct", "DOUBLE")], rows)
        self._small_table("pairs", [("provider", "VARCHAR"), ("model", "VARCHAR"), ("cheaper", "VARCHAR")], pairs)
        self._small_table("aliases", [(c, "VARCHAR") for c in ("alias", "team", "app", "customer", "feature")],
                          alias_rows)

        own = cost_sql("p.", "r.")
        cheap = cost_sql("cp.", "r.")
        own_cols = ",\n  ".join(f"{expr} AS {name}" for name, expr in own.items())
        cost_total = " + ".join(f"({e})" for e in own.values())
        cheap_total = " + ".join(f"({e})" for e in cheap.values())
        simple = (f"r.status = 'ok' AND {self._small_sql('r.')} "
                  f"AND coalesce(r.n_messages, 1) <= {int(s.simple_max_messages)} "
                  f"AND coalesce(r.hint, '') <> 'complex'")
        day = "coalesce(r.day, DATE '1970-01-01')"
        self.con.execute(f"""
CREATE OR REPLACE VIEW req AS
WITH r AS (
  SELECT r.* EXCLUDE (team, app, customer, feature, line_no),
    {self.line_no_sql("r")} AS line_no,
    coalesce(r.team, a.team) AS team, coalesce(r.app, a.app) AS app,
    coalesce(r.customer, a.customer) AS customer, coalesce(r.feature, a.feature) AS feature,
    CAST(r.ts AS DATE) AS day
  FROM raw r LEFT JOIN aliases a ON a.alias = r.key_alias
  WHERE r.bad_reason IS NULL
)
SELECT r.* EXCLUDE (bad_reason, invalid),
  -- "first by time, then file, then line" as one sortable number: a HUGEINT compares much
  -- faster than a (ts, part, line_no) struct in arg_min and window ORDER BY. No ts sorts last;
  -- products, not shifts: DuckDB refuses to shift a negative (pre-1970) value
  coalesce(epoch_us(r.ts), 9223372036854775807)::HUGEINT * 18446744073709551616
    + r.part::HUGEINT * 1099511627776 + r.line_no AS ord,
  p.priced_as, p.source AS price_source, p.price_from,
  p.p_in, p.p_out, p.p_cached, p.p_cache_write, p.p_reasoning,
  {own_cols},
  CASE WHEN p.p_in IS NULL THEN NULL ELSE {cost_total} END AS cost
FROM r
LEFT JOIN prices p ON p.provider = coalesce(r.provider, '') AND p.model = r.model
     AND p.day = {day} AND r.input_tokens > p.band_lo AND r.input_tokens <= p.band_hi
""")
        # premium-model requests with what the cheaper model of the pair would have cost: a view
        # of its own, so the other analyses' passes do not pay for two more joins
        self.con.execute(f"""
CREATE OR REPLACE VIEW req_premium AS
SELECT r.*, pr.cheaper AS cheaper_model,
  CASE WHEN cp.p_in IS NULL THEN NULL ELSE {cheap_total} END AS cheaper_cost,
  {simple} AS is_simple
FROM req r
JOIN pairs pr ON pr.provider = coalesce(r.provider, '') AND pr.model = r.model
LEFT JOIN prices cp ON cp.provider = coalesce(r.provider, '') AND cp.model = pr.cheaper
     AND cp.day = {day} AND r.input_tokens > cp.band_lo AND r.input_tokens <= cp.band_hi
""")
