"""Escaping for each output: values from clouds, tags and logs are data, never markup or commands.

A tag, a resource name, a model name or a log field is written by whoever controls that resource
or that log, so every format neutralises what its reader would interpret:

- terminal (`plain`): control characters removed (ESC sequences would clear the screen, retitle
  the window or forge a hyperlink); rich markup is never parsed in data (callers pass `Text`,
  or `markup` for a string that goes through rich's markup parser);
- CSV (`csv_cell`): a text cell that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`
  so spreadsheets read it as text, not a formula (OWASP "CSV Injection");
- Markdown (`md_text`, `md_code`): HTML and link/image openers escaped, newlines folded, so a value
  cannot add a heading, a raw `<img>` tracking pixel or a link;
- HTML: `html.escape` at every interpolation (output/html.py), unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape as _rich_escape

# CSI/OSC/other ESC sequences first (so their parameters go too), then any C0/C1 control or DEL
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor, clear screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def plain(value: Any, newlines: bool = False) -> str:
    """Text with control characters (and the sequences they start) removed; newlines folded to
    one space unless `newlines`. Bidi overrides go too (they reorder what a reader sees)."""
    text = "" if value is None else str(value)
    if not newlines:
        text = _NEWLINES.sub(" ", text)
    if text.isprintable():
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\t", " ")))


def markup(value: Any) -> str:
    """A data value to embed in a string rich will parse as markup (stderr messages)."""
    return _rich_escape(plain(value))


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet cannot run: text starting with a formula character gets a `'`.

    Numbers stay numbers (a negative saving is not a formula); only text is touched."""
    if not isinstance(value, str):
        return value
    text = plain(value)
    return "'" + text if text.startswith(_FORMULA) or value.startswith(_FORMULA) else text


_MD_SPECIAL = re.compile(r"[\\<\[|]|&(?=#?\w+;)")
_MD_REPLACE = {"\\": "\\\\", "<": "&lt;", "[": "\\[", "|": "\\|", "&": "&amp;"}


def md_text(value: Any) -> str:
    """Markdown text for a table cell or a line: no HTML, no link or image, no new block."""
    return _MD_SPECIAL.sub(lambda m: _MD_REPLACE[m.group(0)], plain(value))


class Md(str):
    """Markdown already built from escaped parts: table cells pass it through as it is."""


def md_code(value: Any, table: bool = False) -> Md:
    """`value` as one inline code span, whatever backticks it holds (CommonMark fences). In a
    table cell a `|` must still be escaped (GFM splits cells before it finds code spans)."""
    text = plain(value)
    if table:
        text = text.replace("|", "\\|")
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs) + 1 if runs else 1)
    if runs or text.startswith(" ") or text.endswith(" "):
        text = f" {text} "
    return Md(f"{fence}{text}{fence}")
