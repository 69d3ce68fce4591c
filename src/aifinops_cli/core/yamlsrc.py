"""YAML loading that remembers where each value came from, so errors can point at the line.

Every YAML input (config, rules, suppressions, price catalogs, `--set` values) comes through
here, and is treated as untrusted: a config can sit in a checked-out repository.

- only the safe tags (no `!!python/...`, no application tags): PyYAML's safe constructor;
- aliases are a budget, not a multiplier: at most `MAX_ALIASES` alias uses per document and at
  most `MAX_NODES` nodes once every alias is expanded (a 700-byte "billion laughs" file expands
  to a billion nodes), and no recursive alias;
- files over `MAX_BYTES`, invalid UTF-8 and values PyYAML cannot build (an impossible date such
  as 2026-02-30) are a `SourceError` naming file:line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from aifinops_cli.errors import AifinopsError

Path_ = tuple[str | int, ...]
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same results, faster

MAX_BYTES = 4 * 1024 * 1024  # the largest bundled YAML is ~10 kB
MAX_ALIASES = 100
MAX_NODES = 200_000  # after alias expansion; the bundled catalogs and rules are ~2,000 each


class SourceError(AifinopsError):
    """A problem in a user's file, located at file:line."""

    def __init__(self, file: str, line: int | None, where: str, message: str) -> None:
        self.file, self.line, self.where, self.message = file, line, where, message
        loc = f"{file}:{line}" if line else file
        super().__init__(f"{loc}: {where + ': ' if where else ''}{message}")


@dataclass
class Located:
    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its closest parent that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: Path_, message: str) -> SourceError:
        where = ".".join(str(p) for p in path)
        return SourceError(self.file, self.line_of(path), where, message)


class _Loader(_BASE):  # type: ignore[misc,valid-type]
    """The safe loader, with values it cannot build reported at their node's line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, OverflowError, TypeError) as exc:  # e.g. date 2026-02-30
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"invalid value {node.value!r}: {exc}"
                if isinstance(node, yaml.ScalarNode)
                else f"invalid value: {exc}",
                node.start_mark,
            ) from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _check_budget(root: yaml.Node, file: str) -> None:
    """Refuse recursive aliases, more than MAX_ALIASES alias uses, more than MAX_NODES expanded."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    aliases = 0

    def size(node: yaml.Node, used_at: int) -> int:
        nonlocal aliases
        key = id(node)
        if key in sizes:  # a node reached a second time is an alias use
            aliases += 1
            if aliases > MAX_ALIASES:
                raise SourceError(
                    file, used_at, "", f"more than {MAX_ALIASES} YAML aliases: refused (alias bomb?)"
                )
            return sizes[key]
        if key in open_:
            raise SourceError(file, used_at, "", "recursive YAML alias: refused")
        open_.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):  # (child, the line that uses it)
            children = [(n, _line(k)) for k, v in node.value for n in (k, v)]
        elif isinstance(node, yaml.SequenceNode):
            children = [(n, _line(node)) for n in node.value]
        else:
            children = []
        for child, line in children:
            total += size(child, line)
            if total > MAX_NODES:
                raise SourceError(
                    file,
                    line,
                    "",
                    f"more than {MAX_NODES:,} YAML values once aliases are expanded: refused (alias bomb?)",
                )
        open_.discard(key)
        sizes[key] = total
        return total

    size(root, _line(root))


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = _line(node)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _walk(value_node, (*path, key), lines)
            lines[(*path, key)] = _line(key_node)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), lines)


def _yaml_error(exc: yaml.YAMLError, text: str, file: str) -> SourceError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    if line is None and isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
    problem = getattr(exc, "problem", None) or str(exc)
    if getattr(exc, "context", None) and "constructor" in str(getattr(exc, "context", "")):
        problem = f"{exc.context}: {problem}"  # type: ignore[attr-defined]
    return SourceError(file, line, "", f"invalid YAML: {' '.join(str(problem).split())}")


def load_documents(text: str, file: str, lines: bool = True) -> list[Located]:
    """Every YAML document in `text`, each with its line map. Any problem becomes SourceError."""
    if len(text) > MAX_BYTES:
        raise SourceError(file, None, "", f"larger than {MAX_BYTES // (1024 * 1024)} MiB: refused")
    out = []
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            line_map: dict[Path_, int] = {}
            if node is not None:
                _check_budget(node, file)
                if lines:
                    _walk(node, (), line_map)
            data = loader.construct_document(node) if node is not None else None
            out.append(Located(data, file, line_map))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from None
    except RecursionError:
        raise SourceError(file, None, "", "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return out


def load_one(text: str, file: str, lines: bool = True) -> Located:
    """The first document (an empty file is `None` data)."""
    docs = load_documents(text, file, lines)
    return docs[0] if docs else Located(None, file)


def read_text(path: Path, what: str) -> str:
    """A YAML input file as text: a regular file, at most MAX_BYTES, valid UTF-8."""
    try:
        if path.is_dir():
            raise SourceError(str(path), None, "", f"cannot read {what}: is a directory")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(str(path), None, "", f"cannot read {what}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise SourceError(
            str(path), None, "", f"{what} larger than {MAX_BYTES // (1024 * 1024)} MiB: refused"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            str(path), line, "", f"{what} is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None


def load_file(path: Path, what: str, lines: bool = True) -> list[Located]:
    return load_documents(read_text(path, what), str(path), lines)


_VALUE_CHECKS = (
    "type",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "const",
    "enum",
    "minLength",
    "anyOf",
    "oneOf",
)


def schema_error(doc: Located, base: Path_, error: jsonschema.ValidationError) -> SourceError:
    """A JSON Schema error at its file:line. oneOf errors are vague, so the deepest, most specific
    cause is reported; an unknown key is named with the allowed ones; a schema's `x-error`
    (e.g. "a price must be a non-negative number of USD") replaces jsonschema's wording of a bad
    value."""
    best = jsonschema.exceptions.best_match([error])
    path = (*base, *best.absolute_path)
    if "propertyNames" in best.schema_path and isinstance(best.instance, str):
        path = (*path, best.instance)  # a bad key: its own line, not its mapping's
    message = best.message
    if best.validator == "additionalProperties" and isinstance(best.instance, dict):
        allowed = set(best.schema.get("properties", {}))
        extra = sorted(str(k) for k in best.instance if k not in allowed)
        if extra:
            path = (*path, extra[0])
            message = f"unknown field {extra[0]!r} (allowed: {', '.join(sorted(allowed))})"
    elif best.validator in _VALUE_CHECKS and isinstance(best.schema, dict) and "x-error" in best.schema:
        message = f"{best.schema['x-error']}, got {best.instance!r}"
    return doc.error(path, message)


def check_schema(
    doc: Located, validator: jsonschema.protocols.Validator, base: Path_ = (), data: Any = None
) -> None:
    """Raise the first schema error of `data` (default: `doc.data` at `base`), in document
    order (at one place, an unknown key before what it leaves missing), as a SourceError at its
    line."""
    errors = sorted(
        validator.iter_errors(doc.data if data is None else data),
        key=lambda e: ([str(p) for p in e.absolute_path], e.validator != "additionalProperties"),
    )  # a typo first
    if errors:
        raise schema_error(doc, base, errors[0])
