
"""Where the logs are and what shape they have.

Inputs are files, directories, globs and `s3://bucket/prefix`. S3 objects are downloaded to a
temporary directory first (boto3 and the usual credential chain; `AWS_ENDPOINT_URL` is honoured
by boto3 itself), so DuckDB reads every input the same way. Formats are detected per file from
its first record only: parsing the whole file is DuckDB's job.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

from aifinops_cli.scanners.interface import ScannerError

FORMATS = (
    "openai",  # chat completions / responses objects, bare or wrapped in {request, response}
    "openai-batch",  # Batch API output lines {custom_id, response: {body}}
    "anthropic",  # Messages API responses, bare or wrapped
    "litellm-spend",  # LiteLLM_SpendLogs rows exported as JSON lines or a JSON array
    "litellm-spend-csv",  # the same table exported as CSV
    "litellm-payload",  # LiteLLM StandardLoggingPayload callbacks (JSON lines)
    "bedrock",  # Bedrock model invocation logs (JSON lines, usually .json.gz in S3)
    "otel",  # OTLP JSON ExportTraceServiceRequest with gen_ai.* span attributes
    "csv",  # the plain documented CSV (see formats.PLAIN_CSV_COLUMNS)
)
LOG_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".log", ".gz", ".txt")


@dataclass(frozen=True)
class LogFile:
    display: str  # what the user named (s3://... or a path)
    path: str  # local path DuckDB reads
    layout: str = "lines"  # lines | document (one JSON array/object) | csv


@dataclass
class InputProblem:
    scope: str
    message: str


def _s3_download(uri: str, workdir: Path) -> tuple[list[LogFile], list[InputProblem]]:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as exc:  # pragma: no cover - boto3 is a core dependency
        raise ScannerError("reading s3:// logs needs boto3 (pip install boto3)") from exc
    rest = uri[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    files: list[LogFile] = []
    try:
        s3 = boto3.session.Session().client("s3")
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or not key.lower().endswith(LOG_SUFFIXES):
                    continue
                local = workdir / "s3" / bucket / key
                local.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, key, str(local))
                files.append(LogFile(f"s3://{bucket}/{key}", str(local)))
    except (BotoCoreError, ClientError) as exc:
        return files, [InputProblem(uri, f"cannot read from S3: {exc}; check credentials "
                                         "(AWS_PROFILE) and s3:ListBucket/s3:GetObject")]
    if not files:
        return [], [InputProblem(uri, "no log objects under this prefix")]
    return files, []


def resolve_inputs(specs: list[str], workdir: Path) -> tuple[list[LogFile], list[InputProblem]]:
    """Expand every input to local files; what cannot be read becomes a problem, not an error."""
    files: list[LogFile] = []
    problems: list[InputProblem] = []
    for spec in specs:
        if spec.startswith("s3://"):
            got, bad = _s3_download(spec, workdir)
            files += got
            problems += bad
            continue
        if any(ch in spec for ch in "*?["):
            matches = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
            if not matches:
                problems.append(InputProblem(spec, "the pattern matches no files"))
            files += [LogFile(p, p) for p in matches]
            continue
        path = Path(spec)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*")
                           if p.is_file() and p.name.lower().endswith(LOG_SUFFIXES))
            if not found:
                problems.append(InputProblem(spec, "the directory holds no .jsonl/.json/.csv/.gz logs"))
            files += [LogFile(p, p) for p in found]
        elif path.is_file():
            if not os.access(path, os.R_OK):
                problems.append(InputProblem(spec, "file is not readable (permissions)"))
            else:
                files.append(LogFile(spec, str(path)))
        else:
            problems.append(InputProblem(spec, "no such file or directory"))
    return files, problems


def _head(path: str, size: int = 1 << 20) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        raw = fh.read(size)
    return raw.decode("utf-8", errors="replace")


def _key_paths(obj: object, at: tuple[str, ...], out: set[tuple[str, ...]]) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = (*at, str(key))
            out.add(path)
            _key_paths(value, path, out)


def sample_key_paths(file: LogFile, max_records: int = 2000) -> set[tuple[str, ...]] | None:
    """Every object key path in the first records of a JSON-lines file (None if none parse).

    Only a speed hint: objects absent from the sample are read as JSON text rather than typed,
    so a record that has them later still has every field read."""
    try:
        head = _head(file.path)
    except (OSError, EOFError):
        return None
    out: set[tuple[str, ...]] = set()
    parsed = 0
    for line in head.split("\n")[:max_records]:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        parsed += 1
        _key_paths(obj, (), out)
    return out if parsed else None


def _classify_json(obj: object) -> str | None:
    if isinstance(obj, list):
        return _classify_json(obj[0]) if obj else None
    if not isinstance(obj, dict):
        return None
    keys = set(obj)
    if "resourceSpans" in keys:
        return "otel"
    if obj.get("schemaType") == "ModelInvocationLog" or {"modelId", "input", "output"} <= keys:
        return "bedrock"
    if "custom_id" in keys and "response" in keys:
        return "openai-batch"
    if "spend" in keys and "request_id" in keys:
        return "litellm-spend"
    if "response_cost" in keys or ("standard_logging_object" in keys):
        return "litellm-payload"
    if {"model", "input_tokens", "output_tokens"} <= keys and "usage" not in keys:
        return "csv"  # our plain flat schema written as JSON lines
    body = obj.get("response") if isinstance(obj.get("response"), dict) else obj
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    if body.get("type") == "message" or "cache_creation_input_tokens" in usage or (
        "input_tokens" in usage and str(body.get("model", "")).startswith("claude")
        and body.get("object") != "response"
    ):
        return "anthropic"
    if usage or body.get("object") in ("chat.completion", "response"):
        return "openai"
    return None


def detect(file: LogFile) -> tuple[str | None, str]:
    """(format, layout) from the first record; format None when nothing matches."""
    head = _head(file.path)
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        return None, "lines"
    if stripped[0] in "[{":
        lines = [ln.strip() for ln in stripped.split("\n")[:200] if ln.strip()]
        parsed_any = False
        for line in lines:  # a last line cut by the sample fails to parse and is skipped
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            parsed_any = True
            fmt = _classify_json(obj)
            if fmt:  # the first record that says what it is (a 429 line may carry no usage)
                return fmt, "lines"
        if parsed_any and stripped[0] == "{":
            return None, "lines"
        try:  # a pretty-printed document or a JSON array that fits in the sample
            return _classify_json(json.loads(stripped)), "document"
        except json.JSONDecodeError:
            # a big array or document: decode just its first element
            if stripped[0] == "[":
                try:
                    obj, _ = json.JSONDecoder().raw_decode(stripped[1:].lstrip())
                    return _classify_json(obj), "document"
                except json.JSONDecodeError:
                    return None, "document"
            return None, "lines"
    header = [h.strip().strip('"').lower() for h in stripped.split("\n", 1)[0].split(",")]
    if {"request_id", "spend"} <= set(header) and ("starttime" in header or "model" in header):
        return "litellm-spend-csv", "csv"
    if {"model", "input_tokens", "output_tokens"} <= set(header):
        return "csv", "csv"
    return None, "csv"
