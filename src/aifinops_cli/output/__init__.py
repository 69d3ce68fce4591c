"""Output formats, chosen by name (`--format`): a registry fed by the `aifinops.formats` group.

Built-in formats are entry points in our own pyproject, so a third-party package adds one exactly
the way we do: `[project.entry-points."aifinops.formats"] pdf = "mypkg.pdf:PdfFormatter"`, a
subclass of `output.base.Formatter` whose `name` is the entry point's name. The interface is in
`base.py`; each format is one module that imports only base, safe and core.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from aifinops_cli.core.registry import FORMAT_GROUP, PluginLoadError, group_entry_points, load_entry

if TYPE_CHECKING:
    from aifinops_cli.output.base import Formatter


@cache
def formatters() -> dict[str, type[Formatter]]:
    """Every registered format by name, sorted; loaded once per process."""
    from aifinops_cli.output.base import Formatter

    eps = {ep.name: ep for ep in group_entry_points(FORMAT_GROUP)}  # a name twice (stale metadata): one
    found = {}
    for name in sorted(eps):
        # abstract Formatter only reaches issubclass: python/mypy#4717
        cls = load_entry(eps[name], Formatter, "format")  # type: ignore[type-abstract]
        if cls.name != name:
            raise PluginLoadError(
                f"format entry point {name!r} names a formatter called {cls.name!r}: the two must match"
            )
        found[name] = cls
    return found
