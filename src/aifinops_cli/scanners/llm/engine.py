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

import fnmatch
import io
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from aifinops_cli.core.plugin import ScannerError
from aifinops_cli.scanners.llm import formats
from aifinops_cli.scanners.llm.formats import otel
from aifinops_cli.scanners.llm.inputs import (
    FORMATS,
    Detected,
    LenientGzip,
    LogFile,
    detect,
    extract_list,
    sample_key_paths,
)
from aifinops_cli.scanners.llm.pricing import PRICE_COLUMNS, PriceBook, Tiers, cost_sql

WORKDIR_PREFIX = "aifinops-llm-"
JSON_FORMAT = {"lines": "newline_delimited", "array": "array", "document": "unstructured"}
# DuckDB's memory_limit syntax, strictly: a number and a unit, nothing that could end the string
MEMORY_LIMIT_RE = re.compile(r"^\s*\d{1,6}(\.\d{1,3})?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
# a model or deployment name as config may give it (it is bound as a parameter all the same)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
# read line by line, a longer record is one malformed record (counted with its line). DuckDB's
# line reader needs a buffer twice the line limit to report (not drop) an oversize line
MAX_RECORD_BYTES = 16 << 20


def check_config(config: dict[str, Any], forced_format: str | None = None) -> None:
    """Reject bad `llm:` values and `--llm-log-format` before any scan work (exit 2 upstream)."""
    limit = config.get("memory_limit", "600MB")
    if not isinstance(limit, str) or not MEMORY_LIMIT_RE.match(limit):
        raise ScannerError(f"config llm.memory_limit: {limit!r} is not a size such as 600MB or 2GB")
    if forced_format is not None and forced_format not in FORMATS:
        raise ScannerError(f"unknown --llm-log-format {forced_format!r}; choose from " + ", ".join(FORMATS))
    deployments = config.get("azure_deployments") or {}
    if not isinstance(deployments, dict):
        raise ScannerError("config llm.azure_deployments: expected a mapping {deployment: model}")
    for name, model in deployments.items():
        if not NAME_RE.match(str(name)) or not NAME_RE.match(str(model)):
            raise ScannerError(
                f"config llm.azure_deployments: {name!r}: {model!r} is not a deployment and "
                "model name (letters, digits and . _ : / @ + -)"
            )
    jobs = config.get("bedrock_batch_models") or {}
    if not isinstance(jobs, dict):
        raise ScannerError(
            "config llm.bedrock_batch_models: expected a mapping {job ARN, job id or path glob: model}"
        )
    for key, model in jobs.items():
        if not str(key).strip() or not NAME_RE.match(str(model)):
            raise ScannerError(
                f"config llm.bedrock_batch_models: {key!r}: {model!r} is not a Bedrock model id "
                "(letters, digits and . _ : / @ + -)"
            )


def bedrock_batch_model(jobs: dict[str, str], display: str) -> tuple[str, str] | None:
    """(model, the config key that named it) for a Bedrock batch output file, or None.

    A batch output line names no model when the job ran a Converse or Titan body (AWS: "you
    specify the model when you create the batch inference job"; the job's manifest.json.out has
    only record and token counts), so config names it per job: a key is a job ARN
    (`arn:aws:bedrock:...:model-invocation-job/<id>`) or job id, matched as a folder of the
    file's path (Bedrock writes a job's output under a folder named by its id), or a glob on the
    path (`s3://bucket/out/*`, `*` for every file). First match in config order wins."""
    parts = display.replace("\\", "/").split("/")
    for key, model in jobs.items():
        job = key.rsplit("/", 1)[-1] if key.startswith("arn:") else key
        if job in parts[:-1] or fnmatch.fnmatchcase(display, key):
            return model, key
    return None


def sweep_stale_workdirs(root: str | None = None) -> int:
    """Remove work directories left by runs that died (kill -9): spilled tables hold prompt-derived
    data. Only ours (same uid), only those whose process is gone. Returns how many were removed."""
    root = root or tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(root))
    except OSError:
        return 0
    for entry in entries:
        m = re.match(re.escape(WORKDIR_PREFIX) + r"(\d+)-", entry.name)
        if not m or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            pid = int(m.group(1))
            if pid != os.getpid():
                os.kill(pid, 0)  # raises when the process is gone
                continue
            continue
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
        except (OSError, ValueError):
            continue
    return removed


CLASSIFY_RE = (
    r"classif|categori[sz]|sentiment|\blabel\b|extract|yes or no|true or false|"
    r"which (one|category)|respond with only|one word|is this (spam|toxic)|detect the language|"
    r"return json with|tag (the|this)"
)
COMPLEX_RE = r"```|step by step|explain why|analy[sz]e|write an? |prove|refactor|debug|plan the|essay"


@dataclass
class FileOutcome:
    file: LogFile
    fmt: str | None
    rows: int = 0
    bad: int = 0
    error: str = ""
    structure: int = 0  # trace/tool/agent records: read, not requests


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
    azure_deployments: dict[str, str] = field(default_factory=dict)  # deployment -> model
    # Bedrock batch jobs whose output lines name no model: job ARN, job id or path glob -> model
    bedrock_batch_models: dict[str, str] = field(default_factory=dict)


class Engine:
    def __init__(self, settings: Settings, workdir: Path | None = None) -> None:
        self.settings = settings
        check_config({"memory_limit": settings.memory_limit})
        sweep_stale_workdirs()
        # mkdtemp makes it 0700: spilled tables and downloaded logs stay private
        self._tmp = tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
        self.workdir = Path(workdir or self._tmp.name)
        spill = self.workdir / "spill"
        spill.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.workdir, stat.S_IRWXU)
        # In memory by default: writing a database file made loading ~40% slower and serial;
        # with memory_limit and temp_directory the in-memory tables spill to disk all the same,
        # so memory stays bounded (1M requests ~780 MiB peak, 5M ~830 MiB).
        threads = max(1, min(os.cpu_count() or 1, 8))
        # settings go through the client's config map, never pasted into SQL text
        # (memory_limit is also checked against a strict pattern by check_config)
        config = {
            "memory_limit": settings.memory_limit.strip(),
            "temp_directory": str(spill),
            "threads": threads,
        }
        self.con = duckdb.connect(
            str(self.workdir / "llm.duckdb") if settings.database == "file" else ":memory:", config=config
        )
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute(formats.MACROS)
        cols = ", ".join(
            f"{n} {t}" for n, t in formats.CANONICAL if n not in ("prompt_json", "prompt_hash_given")
        )
        # the prompt itself is not kept (unless --show-prompts): only what the analyses need of it
        self.con.execute(
            f"CREATE TABLE raw (part INTEGER, line_no BIGINT, invalid BOOLEAN, "
            f"{cols}, bad_reason VARCHAR, prompt_hash VARCHAR, last_msg_hash UBIGINT, "
            "n_messages BIGINT, text_known BOOLEAN, hint VARCHAR, prompt_text VARCHAR)"
        )
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
        return (
            f"{r}input_tokens <= {int(s.simple_max_input_tokens)} AND {r}output_tokens <= "
            f"{int(s.simple_max_output_tokens)} AND NOT coalesce({r}has_tools, false)"
        )

    @staticmethod
    def line_no_sql(alias: str) -> str:
        a = f"{alias}."
        return f"coalesce({a}line_no, {a}rowid - (SELECT base FROM parts fb WHERE fb.part = {a}part) + 1)"

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._tmp.cleanup()

    # --- loading ------------------------------------------------------------------------------
    def _src_sql(self, path_text: str, layout: str) -> tuple[str, str | None]:
        """`src(line_no, line)`: one JSON record per row, read so that a bad record costs itself.

        Lines and CSV rows that DuckDB cannot read (invalid UTF-8, over MAX_RECORD_BYTES, a CSV
        row with the wrong shape) go to a rejects table with their line and are counted."""
        path = formats.q(path_text)
        self._n += 1
        rej = f"rej_{self._n}"
        rejects = f"store_rejects=true, rejects_table='{rej}', rejects_scan='{rej}_scan'"
        if layout == "csv":
            return (
                f"SELECT (row_number() OVER ()) + 1 AS line_no, CAST(to_json(t) AS VARCHAR) AS line "
                f"FROM read_csv({path}, header=true, all_varchar=true, {rejects}) t"
            ), rej
        if layout in ("array", "document"):
            return (
                f"SELECT row_number() OVER () AS line_no, CAST(json AS VARCHAR) AS line "
                f"FROM read_json({path}, format='{JSON_FORMAT[layout]}', records=false, "
                f"maximum_object_size={MAX_RECORD_BYTES})"
            ), None
        return (
            f"SELECT row_number() OVER () AS line_no, line FROM read_csv({path}, "
            "columns={'line': 'VARCHAR'}, delim=chr(1), quote='', escape='', header=false, "
            f"auto_detect=false, max_line_size={MAX_RECORD_BYTES}, buffer_size={2 * MAX_RECORD_BYTES}, "
            f"strict_mode=false, {rejects})"
        ), rej

    def _typed_body(
        self,
        fmt: str,
        file_path: str,
        layout: str,
        present: set[tuple[str, ...]] | None,
        model_default: str | None = None,
    ) -> str:
        if fmt == "otel":
            return otel.otel_select(
                self.settings.attribute_keys, otel.typed_source(formats.q(file_path), array=layout == "array")
            )
        return formats.json_select(
            fmt,
            self.settings.attribute_keys,
            read_json=formats.q(file_path),
            present=present,
            json_format=JSON_FORMAT[layout],
            model_default=model_default,
        )

    def _load_typed(
        self, part: int, fmt: str, file: LogFile, path: str, layout: str, model_default: str | None = None
    ) -> bool:
        """DuckDB's typed JSON reader (fast, parallel); False if any record stops it.

        No row_number() here: it would make the whole read single-threaded. First read only the
        key paths a sample of the file has (much less to parse and coalesce); if any record has a
        value elsewhere after all, read it again in full."""
        present = (
            sample_key_paths(LogFile(file.display, path)) if layout == "lines" and fmt != "otel" else None
        )
        base = self.con.execute("SELECT count(*) FROM raw").fetchone()[0]
        head = f"INSERT INTO raw SELECT {part}, * FROM "
        for attempt in [present, None] if present is not None else [None]:
            body = self._typed_body(fmt, path, layout, attempt, model_default)
            try:
                self.con.execute("BEGIN")
                self.con.execute(head + f"({self._derive(body)})")
                if (
                    attempt is not None
                    and self.con.execute(
                        "SELECT count(*) FROM raw WHERE part = ? AND invalid", [part]
                    ).fetchone()[0]
                ):
                    self.con.execute("ROLLBACK")
                    continue
                self.con.execute("UPDATE parts SET base = ? WHERE part = ?", [base, part])
                self.con.execute("COMMIT")
                return True
            except duckdb.Error:
                self.con.execute("ROLLBACK")
            break
        return False

    def _load_lines(
        self, part: int, fmt: str, path: str, layout: str, model_default: str | None = None
    ) -> tuple[str | None, int]:
        """The robust read; returns (error, rejected lines)."""
        src, rej = self._src_sql(path, layout)
        if fmt == "otel":
            array = layout == "array"
            body = otel.otel_select(
                self.settings.attribute_keys, otel.lines_source(array), otel.invalid_lines(array)
            )
        else:
            body = formats.json_select(fmt, self.settings.attribute_keys, model_default=model_default)
        try:
            self.con.execute(
                f"INSERT INTO raw WITH src AS ({src}) SELECT {part}, * FROM ({self._derive(body)})"
            )
        except duckdb.Error as exc:
            return str(exc).split("\n")[0], 0
        if not rej:
            return None, 0
        rejected = self.con.execute(
            f"SELECT line, error_type, error_message FROM {rej} ORDER BY line"
        ).fetchall()
        if rejected and layout == "lines":
            # row_number() skipped the rejected lines: shift the later ones back to their real line
            self.con.execute(
                f"""
UPDATE raw SET line_no = line_no + (
  SELECT count(*) FROM (SELECT line - row_number() OVER (ORDER BY line) AS before FROM {rej}) j
  WHERE j.before < raw.line_no)
WHERE part = ?""",
                [part],
            )
        for line, kind, message in rejected:
            why = {
                "INVALID ENCODING": "invalid UTF-8",
                "LINE SIZE OVER MAXIMUM": f"record over {MAX_RECORD_BYTES >> 20} MB",
            }.get(kind)
            why = why or (("CSV: " if layout == "csv" else "") + message.splitlines()[0])
            self.con.execute(
                "INSERT INTO raw (part, line_no, invalid, bad_reason) VALUES (?, ?, true, ?)",
                [part, line, why],
            )
        return None, len(rejected)

    def _recover_gzip(self, path: str, part: int) -> tuple[str, int] | None:
        """A truncated or corrupt .gz: the complete lines before the damage, in a local file, and
        how many there are (None if the file is not a damaged gzip)."""
        dest = self.workdir / f"recovered-{part}.jsonl"
        src = LenientGzip(path)
        try:
            with io.BufferedReader(src, buffer_size=8 << 20) as reader, dest.open("wb") as out:
                shutil.copyfileobj(reader, out, 8 << 20)
        except OSError:
            return None
        if not src.damaged:
            dest.unlink()
            return None
        with dest.open("r+b") as out:  # drop the record cut in the middle
            size = out.seek(0, os.SEEK_END)
            pos, keep = size, 0
            while pos > 0:
                step = min(1 << 20, pos)
                out.seek(pos - step)
                chunk = out.read(step)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    keep = pos - step + i + 1
                    break
                pos -= step
            out.truncate(keep)
        with dest.open("rb") as fh:
            lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(8 << 20), b""))
        return str(dest), lines

    def load(self, file: LogFile) -> FileOutcome:
        try:
            found: Detected = detect(file)
        except OSError as exc:
            return FileOutcome(file, None, error=f"cannot read: {exc}")
        fmt, layout, detected = found.fmt, found.layout, found.fmt
        if self.settings.forced_format:
            fmt = self.settings.forced_format
            if fmt not in FORMATS:
                return FileOutcome(
                    file, fmt, error=f"unknown --llm-log-format {fmt!r}; choose from " + ", ".join(FORMATS)
                )
            if fmt in ("csv", "litellm-spend-csv") and layout != "csv" and detected is None:
                layout = "csv"
        if fmt is None:
            return FileOutcome(
                file,
                None,
                error="unrecognised log format (use --llm-log-format; formats: " + ", ".join(FORMATS) + ")",
            )
        self._n += 1
        part = self._n
        self.con.execute("INSERT INTO parts VALUES (?, ?, ?, NULL)", [part, file.display, fmt])
        path = file.path
        if layout == "wrapped":
            # {"data": [...]} or an OTLP document: its list, streamed out to a plain JSON array
            dest = self.workdir / f"list-{part}.json"
            try:
                extract_list(path, found.list_key or "", dest)
            except (OSError, ValueError, EOFError, RecursionError) as exc:
                return FileOutcome(file, fmt, error=f"cannot find the record list {found.list_key!r}: {exc}")
            path, layout = str(dest), "array"
        truncated_after: int | None = None
        job = (
            bedrock_batch_model(self.settings.bedrock_batch_models, file.display)
            if fmt == "bedrock-batch"
            else None
        )
        model_default = job[0] if job else None
        done = layout != "csv" and self._load_typed(part, fmt, file, path, layout, model_default)
        if not done:
            error, _ = self._load_lines(part, fmt, path, layout, model_default)
            if error and path.endswith(".gz") and layout == "lines":
                recovered = self._recover_gzip(path, part)
                if recovered:
                    self.con.execute("DELETE FROM raw WHERE part = ?", [part])
                    path, truncated_after = recovered
                    error, _ = self._load_lines(part, fmt, path, layout, model_default)
            if error:
                return FileOutcome(file, fmt, error=f"cannot parse as {fmt}: {error}")
        if truncated_after is not None:
            self.con.execute(
                "INSERT INTO raw (part, line_no, invalid, bad_reason) VALUES (?, ?, true, ?)",
                [part, truncated_after + 1, "truncated gzip stream: the records from here on are lost"],
            )
        rows, bad, structure = self.con.execute(
            "SELECT count(*) FILTER (NOT coalesce(structure, false)), count(bad_reason), "
            "count(*) FILTER (structure) FROM raw WHERE part = ?",
            [part],
        ).fetchone()
        out = FileOutcome(file, fmt, rows=rows, bad=bad, structure=structure)
        if rows and bad == rows and self.settings.forced_format and detected != fmt:
            out.error = f"no record is a {fmt} record" + (
                f" (the file looks like {detected})" if detected else ""
            )
        elif not rows and not structure and self.settings.forced_format and detected != fmt:
            out.error = f"no {fmt} record in the file" + (f" (it looks like {detected})" if detected else "")
        return out

    def bad_examples(self, limit: int = 5) -> list[tuple[str, int, str]]:
        return self.con.execute(
            f"SELECT p.file, {self.line_no_sql('r')} AS n, bad_reason FROM raw r JOIN parts p USING (part) "
            "WHERE bad_reason IS NOT NULL ORDER BY p.file, n LIMIT ?",
            [limit],
        ).fetchall()

    # --- pricing ------------------------------------------------------------------------------
    def _small_table(self, name: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> None:
        """A typed table from Python rows, one list per column: registering Arrow tables would
        import pandas (~0.3 s), and a placeholder per value gets slow with many price rows."""
        self.con.execute(
            f"CREATE OR REPLACE TABLE {name} (" + ", ".join(f"{c} {t}" for c, t in columns) + ")"
        )
        if rows:
            self.con.execute(
                f"INSERT INTO {name} SELECT " + ", ".join(f"unnest(?::{t}[])" for _, t in columns),
                [[r.get(c) for r in rows] for c, _ in columns],
            )

    def price(self, book: PriceBook, tiers: Tiers) -> None:
        """Build the price table for what was seen; the `req` view joins it over all records."""
        s = self.settings
        seen = self.con.execute(
            "SELECT coalesce(provider, ''), model, CAST(ts AS DATE) AS d, coalesce(price_mode, 'standard') "
            "FROM raw WHERE bad_reason IS NULL AND NOT coalesce(structure, false) GROUP BY ALL"
        ).fetchall()
        models = {(p, m) for p, m, _, _ in seen}
        days_by_model: dict[tuple[str, str], set[tuple[date, str]]] = {}
        for p, m, d, mode in seen:
            days_by_model.setdefault((p, m), set()).add((d or date(1970, 1, 1), mode))
        wanted = [(p, m, d, mode) for (p, m), ds in days_by_model.items() for d, mode in sorted(ds)]
        # cheaper pairs for premium models, priced on the same days in the same mode
        pairs: list[dict[str, Any]] = []
        for p, m in sorted(models):
            res, _ = book.resolve(p, m)
            cheaper = tiers.cheaper_for(p, m, res.priced_as)
            if cheaper:
                pairs.append({"provider": p, "model": m, "cheaper": cheaper})
                wanted += [(p, cheaper, d, mode) for d, mode in sorted(days_by_model[(p, m)])]
        rows = book.rows(sorted(set(wanted), key=lambda t: (t[0], t[1], t[2], t[3])))
        # the billing mode joins only when some record has one: every analysis pass over `req`
        # pays for each join key, and most logs are all standard
        modes = {mode for _, _, _, mode in seen}
        mode_join = (
            (lambda a: f"AND {a}.mode = coalesce(r.price_mode, 'standard')")
            if modes - {"standard"}
            else (lambda a: "")
        )
        alias_rows = [
            {"alias": k, **{c: v.get(c) for c in ("team", "app", "customer", "feature")}}
            for k, v in s.key_aliases.items()
        ]
        self._small_table(
            "prices",
            [
                ("provider", "VARCHAR"),
                ("model", "VARCHAR"),
                ("day", "DATE"),
                ("mode", "VARCHAR"),
                ("priced_as", "VARCHAR"),
                ("source", "VARCHAR"),
                ("band_lo", "BIGINT"),
                ("band_hi", "BIGINT"),
                *[(c, "DOUBLE") for c in PRICE_COLUMNS],
                ("price_from", "VARCHAR"),
                ("discount_pct", "DOUBLE"),
            ],
            rows,
        )
        self._small_table(
            "pairs", [("provider", "VARCHAR"), ("model", "VARCHAR"), ("cheaper", "VARCHAR")], pairs
        )
        self._small_table(
            "aliases", [(c, "VARCHAR") for c in ("alias", "team", "app", "customer", "feature")], alias_rows
        )

        own = cost_sql("p.", "r.")
        cheap = cost_sql("cp.", "r.")
        own_cols = ",\n  ".join(f"{expr} AS {name}" for name, expr in own.items())
        cost_total = " + ".join(f"({e})" for e in own.values())
        cheap_total = " + ".join(f"({e})" for e in cheap.values())
        simple = (
            f"r.status = 'ok' AND {self._small_sql('r.')} "
            f"AND coalesce(r.n_messages, 1) <= {int(s.simple_max_messages)} "
            f"AND coalesce(r.hint, '') <> 'complex'"
        )
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
  WHERE r.bad_reason IS NULL AND NOT coalesce(r.structure, false)
)
SELECT r.* EXCLUDE (bad_reason, invalid, structure),
  -- "first by time, then file, then line" as one sortable number: a HUGEINT compares much
  -- faster than a (ts, part, line_no) struct in arg_min and window ORDER BY. No ts sorts last;
  -- products, not shifts: DuckDB refuses to shift a negative (pre-1970) value
  coalesce(epoch_us(r.ts), 9223372036854775807)::HUGEINT * 18446744073709551616
    + r.part::HUGEINT * 1099511627776 + r.line_no AS ord,
  p.priced_as, p.source AS price_source, p.price_from,
  p.p_in, p.p_out, p.p_cached, p.p_cache_write, p.p_reasoning,
  {own_cols},
  -- a failed request that used no tokens was billed nothing, priced or not
  CASE WHEN r.status = 'error' AND r.input_tokens = 0 AND r.output_tokens = 0 THEN 0.0
       WHEN p.p_in IS NULL THEN NULL ELSE {cost_total} END AS cost
FROM r
LEFT JOIN prices p ON p.provider = coalesce(r.provider, '') AND p.model = r.model
     AND p.day = {day} {mode_join("p")}
     AND r.input_tokens > p.band_lo AND r.input_tokens <= p.band_hi
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
     AND cp.day = {day} {mode_join("cp")} AND r.input_tokens > cp.band_lo AND r.input_tokens <= cp.band_hi
""")
