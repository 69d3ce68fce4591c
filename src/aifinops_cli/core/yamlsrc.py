"""YAML loading that remembers where each value came from, so errors can point at the line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same results, faster


class SourceError(Exception):
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


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _walk(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), lines)


def load_documents(text: str, file: str) -> list[Located]:
    """Every YAML document in `text`, each with its line map. Syntax errors become SourceError."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
        datas = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(file, line, "", f"invalid YAML: {problem}") from None
    out = []
    for node, data in zip(nodes, datas, strict=True):
        lines: dict[Path_, int] = {}
        if node is not None:
            _walk(node, (), lines)
        out.append(Located(data, file, lines))
    return out
