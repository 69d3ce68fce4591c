"""Where the logs are and what shape they have.

Inputs are files, directories, globs and `s3://bucket/prefix`. S3 objects are downloaded to a
temporary directory first (boto3 and the usual credential chain; `AWS_ENDPOINT_URL` is honoured
by boto3 itself), so DuckDB reads every input the same way. Formats are detected per file from
its first record only: parsing the whole file is DuckDB's job.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aifinops_cli.core.plugin import Limits, ScannerError
from aifinops_cli.scanners.llm import formats
from aifinops_cli.scanners.localfiles import walk_files

FORMATS = tuple(f.name for f in formats.ordered())
LOG_SUFFIXES = (".jsonl", ".json", ".ndjson", ".csv", ".log", ".gz", ".txt", ".out")


@dataclass(frozen=True)
class LogFile:
    display: str  # what the user named (s3://... or a path)
    path: str  # local path DuckDB reads
    layout: str = "lines"  # lines | array | document | wrapped | csv (see `detect`)


@dataclass
class InputProblem:
    scope: str
    message: str


def _s3_download(
    uri: str, workdir: Path, limits: Limits | None = None
) -> tuple[list[LogFile], list[InputProblem]]:
    """Every log object under an S3 prefix, downloaded. The client has the scan's timeouts and
    attempt budget; an object that cannot be read is one problem and the others are still read."""
    try:
        import boto3

        from aifinops_cli.scanners.aws.common import AWS_ERRORS, client_limits, explain
    except ImportError as exc:  # pragma: no cover - boto3 is a core dependency
        raise ScannerError("reading s3:// logs needs boto3 (pip install boto3)") from exc
    rest = uri[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    files: list[LogFile] = []
    problems: list[InputProblem] = []
    try:
        s3 = boto3.session.Session().client("s3", config=client_limits(limits or Limits()))
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or not key.lower().endswith(LOG_SUFFIXES):
                    continue
                local = safe_local_name(workdir / "s3", len(files) + len(problems), key)
                local.parent.mkdir(parents=True, exist_ok=True)
                try:
                    s3.download_file(bucket, key, str(local))
                except AWS_ERRORS as exc:  # this object only: the listing goes on
                    local.unlink(missing_ok=True)
                    problems.append(
                        InputProblem(f"s3://{bucket}/{key}", f"cannot read from S3: {explain(exc, 's3')}")
                    )
                    continue
                files.append(LogFile(f"s3://{bucket}/{key}", str(local)))
    except AWS_ERRORS as exc:
        return files, [
            *problems,
            InputProblem(
                uri,
                f"cannot list S3: {explain(exc, 's3')}; check credentials (AWS_PROFILE) and s3:ListBucket",
            ),
        ]
    if not files and not problems:
        return [], [InputProblem(uri, "no log objects under this prefix")]
    return files, problems


def safe_local_name(root: Path, index: int, key: str) -> Path:
    """A local file name for an S3 object key, always directly inside `root`.

    Keys are the bucket writer's choice (`../../baseline.json`, `/etc/x`, `a/../../b`): only the
    last segment's safe characters are kept, behind a running number (so two keys never collide),
    and the suffix survives so DuckDB still recognises `.gz`."""
    base = key.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[-100:] or "object"
    local = root / f"{index:06d}-{base}"
    if local.resolve().parent != root.resolve():  # pragma: no cover - the name has no separator
        raise ScannerError(f"refusing S3 key {key!r}: it does not map inside the work directory")
    return local


def resolve_inputs(
    specs: list[str], workdir: Path, limits: Limits | None = None
) -> tuple[list[LogFile], list[InputProblem]]:
    """Expand every input to local files; what cannot be read becomes a problem, not an error.
    `limits` bound the S3 requests (the scan's timeouts and attempts)."""
    files: list[LogFile] = []
    problems: list[InputProblem] = []
    for spec in specs:
        if spec.startswith("s3://"):
            got, bad = _s3_download(spec, workdir, limits)
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
            found, unreadable = walk_files(spec, lambda name: name.lower().endswith(LOG_SUFFIXES))
            problems += [InputProblem(u.path, u.message) for u in unreadable]
            if not found and not unreadable:
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


MAX_DETECT_LINE = 16 << 20  # a first record longer than this is skipped by detection, not fatal
LIST_KEYS = (
    "data",
    "records",
    "results",
    "items",
    "logs",
    "observations",
    "requests",
    "rows",
    "resourceSpans",
)


class LenientGzip(io.RawIOBase):
    """A .gz file read as far as it goes: a truncated or corrupt stream ends the data where the
    damage starts (`damaged` is then True) instead of raising and losing the last block, which
    gzip.GzipFile does. Concatenated members are read one after another."""

    def __init__(self, path: str) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115
        self._z = zlib.decompressobj(wbits=31)
        self._buf = b""
        self.damaged = False
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf and not self._done:
            raw = self._fh.read(1 << 20)
            try:
                if not raw:
                    self._buf = self._z.flush()
                    self.damaged = not self._z.eof
                    self._done = True
                    break
                self._buf = self._z.decompress(raw)
                while self._z.eof and self._z.unused_data:  # the next gzip member
                    rest = self._z.unused_data
                    self._z = zlib.decompressobj(wbits=31)
                    self._buf += self._z.decompress(rest)
            except zlib.error:
                self.damaged = True
                self._done = True
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open(path: str) -> Any:
    if path.endswith(".gz"):
        return io.BufferedReader(LenientGzip(path), buffer_size=1 << 20)
    return open(path, "rb")


def _head(path: str, size: int = 1 << 20) -> str:
    with _open(path) as fh:
        raw = fh.read(size)
    return raw.decode("utf-8", errors="replace")


def _loads(text: str) -> Any:
    """json.loads that treats too-deep nesting as unparseable instead of raising."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def _first_lines(path: str, limit: int = 200) -> list[str]:
    """The first lines of a file, each cut at MAX_DETECT_LINE (a longer one is returned empty)."""
    out: list[str] = []
    with _open(path) as fh:
        try:
            while len(out) < limit:
                line = fh.readline(MAX_DETECT_LINE)
                if not line:
                    break
                if not line.endswith(b"\n") and len(line) >= MAX_DETECT_LINE:
                    while True:  # skip the rest of an oversized line
                        more = fh.readline(MAX_DETECT_LINE)
                        if not more or more.endswith(b"\n"):
                            break
                    out.append("")
                    continue
                out.append(line.decode("utf-8", errors="replace").strip())
        except OSError:
            pass
    return out


def _key_paths(obj: object, at: tuple[str, ...], out: set[tuple[str, ...]], depth: int = 0) -> None:
    if isinstance(obj, dict) and depth < 64:
        for key, value in obj.items():
            path = (*at, str(key))
            out.add(path)
            _key_paths(value, path, out, depth + 1)


def sample_key_paths(file: LogFile, max_records: int = 2000) -> set[tuple[str, ...]] | None:
    """Every object key path in the first records of a JSON-lines file (None if none parse).

    Only a speed hint: objects absent from the sample are read as JSON text rather than typed,
    so a record that has them later still has every field read."""
    try:
        head = _head(file.path)
    except OSError:
        return None
    out: set[tuple[str, ...]] = set()
    parsed = 0
    for line in head.split("\n")[:max_records]:
        obj = _loads(line)
        if obj is None:
            continue
        parsed += 1
        _key_paths(obj, (), out)
    return out if parsed else None


def classify(obj: object) -> str | None:
    """The registered format whose detector first accepts this record (see formats.ordered)."""
    if isinstance(obj, list):
        return classify(obj[0]) if obj else None
    if not isinstance(obj, dict):
        return None
    for fmt in formats.ordered():
        if fmt.detect is not None and fmt.detect(obj):
            return fmt.name
    return None


@dataclass(frozen=True)
class Detected:
    fmt: str | None
    layout: str  # lines | array | document | wrapped | csv
    list_key: str | None = None  # wrapped: the top-level key holding the records


def _wrapped_key(obj: dict[str, Any]) -> str | None:
    """The key of a top-level list of records ({"data": [...], "meta": ...})."""
    keys = [k for k in LIST_KEYS if k in obj] + [k for k in obj if k not in LIST_KEYS]
    for key in keys:
        value = obj[key]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return key
    return None


def _scan_prefix(text: str) -> tuple[str | None, Any]:
    """For a document too big for the sample: the first list-valued top-level key and its first
    element, decoded from the start of the text without reading the rest."""
    dec = json.JSONDecoder()
    pos = 1
    ws = re.compile(r"[\s,]*")
    try:
        while pos < len(text):
            pos = ws.match(text, pos).end()  # type: ignore[union-attr]
            key, pos = dec.raw_decode(text, pos)
            pos = re.compile(r"\s*:\s*").match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith("[", pos):
                first, _ = dec.raw_decode(text, ws.match(text, pos + 1).end())  # type: ignore[union-attr]
                return str(key), first
            _, pos = dec.raw_decode(text, pos)
    except (json.JSONDecodeError, AttributeError, RecursionError):
        pass
    return None, None


def detect(file: LogFile) -> Detected:
    """Format and layout from the first records; format None when nothing matches.

    Layouts: `lines` (JSON lines), `array` (one JSON array, any size, pretty-printed or not),
    `document` (JSON values one after another, e.g. pretty-printed objects), `wrapped` (one object
    holding the records in a list under `list_key`, e.g. {"data": [...]} or an OTLP document
    {"resourceSpans": [...]}), `csv`."""
    head = _head(file.path)
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        return Detected(None, "lines")
    if stripped[0] == "[":
        first = None
        for size in (1 << 20, 16 << 20):  # a first element over 1 MB: look further
            text = stripped if size == 1 << 20 else _head(file.path, size).lstrip("\ufeff \t\r\n")
            try:
                first, _ = json.JSONDecoder().raw_decode(text, re.compile(r"\[\s*").match(text).end())  # type: ignore[union-attr]
                break
            except (json.JSONDecodeError, RecursionError):
                continue
        return Detected(classify(first), "array")
    if stripped[0] == "{":
        parsed_any = False
        for line in _first_lines(file.path):  # a last line cut by the sample fails and is skipped
            obj = _loads(line) if line.startswith("{") else None
            if obj is None:
                continue
            parsed_any = True
            fmt = classify(obj)
            if fmt:  # the first record that says what it is (a 429 line may carry no usage)
                return Detected(fmt, "lines")
            key = _wrapped_key(obj) if isinstance(obj, dict) else None
            inner = classify(obj[key][0]) if key else None
            if inner:  # one object on one line holding the records: {"data": [...]}
                return Detected(inner, "wrapped", key)
        if parsed_any:
            return Detected(None, "lines")
        try:  # pretty-printed: one document, or records one after another
            obj, _ = json.JSONDecoder().raw_decode(stripped)
        except (json.JSONDecodeError, RecursionError):
            key, first = _scan_prefix(stripped)
            if key == "resourceSpans":
                return Detected("otel", "wrapped", key)
            return Detected(classify(first), "wrapped", key) if key else Detected(None, "lines")
        fmt = classify(obj)
        if fmt == "otel":
            return Detected(fmt, "wrapped", "resourceSpans")
        if fmt:
            return Detected(fmt, "document")
        key = _wrapped_key(obj) if isinstance(obj, dict) else None
        return Detected(classify(obj[key][0]), "wrapped", key) if key else Detected(None, "document")
    header = {h.strip().strip('"').lower() for h in stripped.split("\n", 1)[0].split(",")}
    for fmt in formats.ordered():
        if fmt.csv_header is not None and fmt.csv_header(header):
            return Detected(fmt.name, "csv")
    return Detected(None, "csv")


def extract_list(path: str, key: str, dest: Path, chunk: int = 8 << 20) -> None:
    """Write the JSON array under top-level `key` of the document at `path` to `dest`, streaming.

    The bytes from the array's `[` to the end are copied in chunks; then the text after its
    closing `]` (`, "meta": {...}}`) is cut off by truncating `dest`. Nothing is parsed beyond the
    keys before the array, so any size works in constant memory."""
    with _open(path) as fh:
        head = fh.read(1 << 20)
        text = head.decode("utf-8", errors="replace")
        dec = json.JSONDecoder()
        pos = text.index("{") + 1
        ws = re.compile(r"[\s,]*")
        while True:
            pos = ws.match(text, pos).end()  # type: ignore[union-attr]
            name, pos = dec.raw_decode(text, pos)
            pos = re.compile(r"\s*:\s*").match(text, pos).end()  # type: ignore[union-attr]
            if name == key:
                break
            _, pos = dec.raw_decode(text, pos)
        start = len(text[:pos].encode("utf-8", errors="replace"))
        with dest.open("wb") as out:
            out.write(head[start:])
            while True:
                block = fh.read(chunk)  # a truncated .gz ends early: the array reader reports it
                if not block:
                    break
                out.write(block)
    size = dest.stat().st_size
    with dest.open("r+b") as out:
        out.seek(max(0, size - (1 << 20)))
        tail = out.read()
        base = max(0, size - (1 << 20))
        end = None
        i = tail.rfind(b"]")
        while i >= 0:
            rest = tail[i + 1 :].decode("utf-8", errors="replace").strip()
            if rest == "}" or (rest.startswith(",") and _loads("{" + rest[1:]) is not None):
                end = base + i + 1
                break
            i = tail.rfind(b"]", 0, i)
        if end is not None:
            out.truncate(end)
