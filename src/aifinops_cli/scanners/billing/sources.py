"""Where billing data comes from, and the engine that queries it.

Local files (and `s3://` objects, fetched with boto3 so `AWS_ENDPOINT_URL` and profiles apply)
are read by an embedded DuckDB straight from CSV, gzipped CSV, Parquet or JSON: out of core,
never loaded into Python. `athena://database.table` and `bigquery://project.dataset.table`
run the very same SQL where the bill already lives.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aifinops_cli.core.plugin import Limits
from aifinops_cli.errors import AifinopsError
from aifinops_cli.scanners.billing.dialect import ATHENA, BIGQUERY, DUCKDB, Dialect
from aifinops_cli.scanners.billing.formats import Schema
from aifinops_cli.scanners.localfiles import Unreadable, walk_files

DATA_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".parquet",
    ".snappy.parquet",
    ".gz.parquet",
    ".json",
    ".jsonl",
    ".ndjson",
    ".json.gz",
    ".jsonl.gz",
)


class SourceProblem(AifinopsError):
    """An input that cannot be read; the message says what to do."""


class Engine(Protocol):
    dialect: Dialect

    def run(self, sql: str) -> list[dict[str, Any]]: ...


def kind_of(path: str) -> str:
    p = path.lower()
    if p.endswith((".parquet", ".parq")):
        return "parquet"
    if p.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")):
        return "json"
    return "csv"


def is_data_file(path: str) -> bool:
    return path.lower().endswith(DATA_SUFFIXES) or path.lower().endswith(".gz")


def expand_local(arg: str, unreadable: list[Unreadable] | None = None) -> list[str]:
    """Files for one argument: a file, a directory (recursively), or a glob. Directories and
    files of a directory that cannot be read are added to `unreadable`, not raised."""
    if any(ch in arg for ch in "*?["):
        found = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
        return [p for p in found if is_data_file(p)] or found
    if os.path.isdir(arg):
        files, problems = walk_files(arg, is_data_file)
        if unreadable is not None:
            unreadable += problems
        return files
    return [arg]


@dataclass
class S3Fetch:
    """`s3://bucket/prefix` objects copied to a temporary directory for DuckDB to read.

    The client has the scan's timeouts and attempt budget (`limits`); an object that cannot be
    read is one entry of `unreadable` and the other objects are still fetched."""

    tmpdir: tempfile.TemporaryDirectory[str] = field(default_factory=tempfile.TemporaryDirectory)
    limits: Limits = field(default_factory=Limits)

    def fetch(
        self, url: str, profile: str | None = None, unreadable: list[Unreadable] | None = None
    ) -> list[str]:
        import boto3
        import botocore.exceptions

        from aifinops_cli.scanners.aws.common import AWS_ERRORS, client_limits, explain

        bucket, _, prefix = url[len("s3://") :].partition("/")
        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        s3 = session.client("s3", config=client_limits(self.limits))  # honours AWS_ENDPOINT_URL
        out: list[str] = []
        skipped: list[Unreadable] = []
        try:
            keys: list[str] = []
            if prefix and not prefix.endswith("/") and is_data_file(prefix):
                keys = [prefix]
            else:
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                    keys += [o["Key"] for o in page.get("Contents", []) if is_data_file(o["Key"])]
            for key in keys:
                target = Path(self.tmpdir.name) / bucket / key
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    s3.download_file(bucket, key, str(target))
                except AWS_ERRORS as exc:
                    if len(keys) == 1 or isinstance(exc, botocore.exceptions.NoCredentialsError):
                        raise
                    target.unlink(missing_ok=True)
                    skipped.append(
                        Unreadable(f"s3://{bucket}/{key}", f"cannot read from S3: {explain(exc, 's3')}")
                    )
                    continue
                out.append(str(target))
        except botocore.exceptions.NoCredentialsError as exc:
            raise SourceProblem(
                f"{url}: no AWS credentials (run `aws configure` or set AWS_PROFILE)"
            ) from exc
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise SourceProblem(
                f"{url}: S3 refused ({code}); the role needs s3:ListBucket and "
                "s3:GetObject on the export bucket"
            ) from exc
        except AWS_ERRORS as exc:  # not answered, or an answer that is not S3's XML
            raise SourceProblem(f"{url}: {explain(exc, 's3')}") from exc
        if unreadable is not None:
            unreadable += skipped
        if not out and not skipped:
            raise SourceProblem(f"{url}: no CSV, Parquet or JSON objects under this prefix")
        return out

    def close(self) -> None:
        self.tmpdir.cleanup()


# --- DuckDB -----------------------------------------------------------------------------------


def _reader(kind: str, files: list[str], columns: dict[str, str] | None = None) -> str:
    listed = "[" + ", ".join(DUCKDB.lit(f) for f in files) + "]"
    if kind == "parquet":
        return f"read_parquet({listed}, union_by_name = true)"
    if kind == "json":
        typed = ""
        if columns:
            typed = (
                ", columns = {"
                + ", ".join(f"{DUCKDB.lit(k)}: {DUCKDB.lit(v)}" for k, v in columns.items())
                + "}"
            )
        return (
            f"read_json({listed}, format = 'newline_delimited', union_by_name = true, "
            f"maximum_object_size = 67108864{typed})"
        )
    # CSV read as text, cast by the mapping: a garbled number becomes NULL and is counted, and a
    # truncated last line is padded with NULLs rather than silently dropped.
    return (
        f"read_csv({listed}, header = true, all_varchar = true, null_padding = true, "
        "nullstr = ['NULL', ''], union_by_name = true)"
    )


class DuckDBEngine:
    dialect = DUCKDB

    def __init__(self, memory_limit: str = "1GB", threads: int | None = None) -> None:
        import duckdb

        self.con = duckdb.connect(
            config={
                "memory_limit": memory_limit,
                "preserve_insertion_order": False,
                **({"threads": threads} if threads else {}),
            }
        )

    def source(self, kind: str, files: list[str]) -> str:
        """The reader for these files. JSON keeps its detected shape (structs, lists) but reads
        every scalar as text: DuckDB types a field from a sample, and one later cell that does
        not fit (`"cost": "abc"`) would otherwise fail the whole file. The mapping casts."""
        if kind != "json":
            return _reader(kind, files)
        rel = self.con.sql(f"SELECT * FROM {_reader(kind, files)} LIMIT 0")
        return _reader(
            kind, files, {name: _text_leaves(t) for name, t in zip(rel.columns, rel.types, strict=True)}
        )

    def schema(self, source: str) -> Schema:
        rel = self.con.sql(f"SELECT * FROM {source} LIMIT 0")
        schema = Schema(raw_names=list(rel.columns))
        for name, dtype in zip(rel.columns, rel.types, strict=True):
            _add_duck(schema, (name,), dtype)
        return schema

    def run(self, sql: str) -> list[dict[str, Any]]:
        rel = self.con.sql(sql)
        cols = rel.columns
        return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]

    def close(self) -> None:
        self.con.close()


def _text_leaves(dtype: Any) -> str:
    """A DuckDB type with every scalar leaf replaced by VARCHAR (structs, lists, maps kept)."""
    kind = getattr(dtype, "id", "")
    if str(dtype) == "JSON":  # an empty or mixed list (`"credits": []`) stays JSON: fields still reach
        return "JSON"
    if kind not in ("struct", "list", "map"):
        return "VARCHAR"
    children = list(dtype.children)
    if kind == "struct":
        fields = ", ".join('"' + str(n).replace('"', '""') + '" ' + _text_leaves(t) for n, t in children)
        return f"STRUCT({fields})"
    if kind == "list" and children:
        return _text_leaves(children[0][1]) + "[]"
    if kind == "map" and len(children) == 2:
        return f"MAP(VARCHAR, {_text_leaves(children[1][1])})"
    return "VARCHAR"


def _add_duck(schema: Schema, path: tuple[str, ...], dtype: Any) -> None:
    kind = getattr(dtype, "id", "")
    if kind == "struct":
        schema.add(path, "struct")
        for child_name, child_type in dtype.children:
            _add_duck(schema, (*path, child_name), child_type)
    elif kind == "map":
        schema.add(path, "map")
    elif kind == "list":
        schema.add(path, "list")
    else:
        schema.add(path, "scalar")


# --- Athena -----------------------------------------------------------------------------------


class AthenaEngine:
    """CUR in S3 through Athena. Needs athena:StartQueryExecution/GetQueryExecution/
    GetQueryResults, glue:GetTable, and S3 read on the CUR bucket plus write on the results
    location."""

    dialect = ATHENA

    def __init__(
        self,
        database: str,
        table: str,
        *,
        workgroup: str | None = None,
        output: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        poll_seconds: float = 0.5,
        timeout_seconds: float = 900,
    ) -> None:
        import boto3

        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        region = region or session.region_name or "us-east-1"
        self.athena = session.client("athena", region_name=region)
        self.glue = session.client("glue", region_name=region)
        self.database, self.table = database, table
        self.workgroup, self.output = workgroup, output
        self.poll, self.timeout = poll_seconds, timeout_seconds

    def source(self) -> str:
        return f"{ATHENA.ident(self.database)}.{ATHENA.ident(self.table)}"

    def schema(self) -> Schema:
        table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        cols = table.get("StorageDescriptor", {}).get("Columns", []) + table.get("PartitionKeys", [])
        schema = Schema(raw_names=[c["Name"] for c in cols])
        for c in cols:
            t = c.get("Type", "").lower()
            kind = (
                "map"
                if t.startswith("map<")
                else "list"
                if t.startswith("array<")
                else ("struct" if t.startswith("struct<") else "scalar")
            )
            schema.add((c["Name"],), kind)
        return schema

    def run(self, sql: str) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"QueryString": sql, "QueryExecutionContext": {"Database": self.database}}
        if self.workgroup:
            args["WorkGroup"] = self.workgroup
        if self.output:
            args["ResultConfiguration"] = {"OutputLocation": self.output}
        qid = self.athena.start_query_execution(**args)["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                break
            if state in ("FAILED", "CANCELLED"):
                raise SourceProblem(
                    f"Athena query {qid} {state.lower()}: "
                    f"{status.get('StateChangeReason', 'no reason given')}"
                )
            if time.monotonic() > deadline:
                raise SourceProblem(f"Athena query {qid} still running after {self.timeout:.0f}s")
            time.sleep(self.poll)
        rows: list[dict[str, Any]] = []
        header: list[str] | None = None
        types: list[str] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            rs = page["ResultSet"]
            if not types:
                info = rs.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                types = [c.get("Type", "varchar") for c in info]
            for raw in rs.get("Rows", []):
                values = [d.get("VarCharValue") for d in raw.get("Data", [])]
                if header is None:
                    header = [str(v) for v in values]
                    continue
                rows.append(
                    {
                        h: _athena_value(v, types[i] if i < len(types) else "varchar")
                        for i, (h, v) in enumerate(zip(header, values, strict=False))
                    }
                )
        return rows


def _athena_value(value: str | None, typ: str) -> Any:
    if value is None or value == "":
        return None
    t = typ.lower()
    try:
        if t in ("bigint", "integer", "int", "smallint", "tinyint"):
            return int(value)
        if t in ("double", "float", "real") or t.startswith("decimal"):
            return float(value)
    except ValueError:
        return None
    return value


# --- BigQuery ---------------------------------------------------------------------------------


class BigQueryEngine:
    """The GCP billing export where it lives. Needs bigquery.jobs.create on the project that
    runs the query and bigquery.tables.get/getData on the export dataset (roles
    BigQuery Job User + BigQuery Data Viewer)."""

    dialect = BIGQUERY

    def __init__(
        self,
        project: str,
        dataset: str,
        table: str,
        *,
        endpoint: str | None = None,
        billing_project: str | None = None,
    ) -> None:
        try:
            from google.cloud import bigquery
        except ImportError as exc:  # optional dependency
            raise SourceProblem(
                "bigquery:// needs the BigQuery client: pip install google-cloud-bigquery"
            ) from exc
        kwargs: dict[str, Any] = {"project": billing_project or project}
        if endpoint:
            from google.auth.credentials import AnonymousCredentials

            kwargs["client_options"] = {"api_endpoint": endpoint}
            kwargs["credentials"] = AnonymousCredentials()
        self.client = bigquery.Client(**kwargs)
        self.table_id = f"{project}.{dataset}.{table}"

    def source(self) -> str:
        return BIGQUERY.ident(self.table_id)

    def schema(self) -> Schema:
        table = self.client.get_table(self.table_id)
        schema = Schema(raw_names=[f.name for f in table.schema])

        def add(fields: Any, prefix: tuple[str, ...]) -> None:
            for f in fields:
                path = (*prefix, f.name)
                if f.mode == "REPEATED":
                    schema.add(path, "list")
                elif f.field_type in ("RECORD", "STRUCT"):
                    schema.add(path, "struct")
                    add(f.fields, path)
                else:
                    schema.add(path, "scalar")

        add(table.schema, ())
        return schema

    def run(self, sql: str) -> list[dict[str, Any]]:
        return [dict(row.items()) for row in self.client.query_and_wait(sql)]


def parse_remote(url: str) -> tuple[str, list[str]]:
    """`athena://db.table` -> ("athena", [db, table]); `bigquery://p.d.t` -> ("bigquery", [p, d, t])."""
    scheme, _, rest = url.partition("://")
    parts = [p for p in rest.strip("/").split(".") if p]
    want = 2 if scheme == "athena" else 3
    if len(parts) != want:
        example = "athena://database.table" if scheme == "athena" else "bigquery://project.dataset.table"
        raise SourceProblem(f"{url}: expected {example}")
    return scheme, parts


def iter_args(args: list[str]) -> Iterator[str]:
    for arg in args:
        for piece in arg.split(","):
            if piece.strip():
                yield piece.strip()
