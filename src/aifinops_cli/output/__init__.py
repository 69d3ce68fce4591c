"""Output formats, chosen by name (`--format`): a registry fed by the `aifinops.formats` group.

Built-in formats are entry points in our own pyproject, so a third-party package adds one exactly
the way we do: `[project.entry-points."aifinops.formats"] pdf = "mypkg.pdf:PdfFormatter"`, a
subclass of `output.base.Formatter` whose `name` is the entry point's name. The interface is in
`base.py`; each format is one module that imports only base, safe and core.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from aifinops_cli.errors import AifinopsError

if TYPE_CHECKING:
    from aifinops_cli.output.base import Formatter

GROUP = "aifinops.formats"


class FormatLoadError(AifinopsError):
    """A format plugin that does not import or is not a Formatter (exit 2, naming its package)."""


@cache
def _entry_points() -> tuple[EntryPoint, ...]:
    """The group's entry points, read from package metadata once per process (as the scanner
    registry does: a run that drops privileges later still knows its formats)."""
    return tuple(entry_points(group=GROUP))


def _load(ep: EntryPoint) -> type[Formatter]:
    from aifinops_cli.output.base import Formatter

    dist = ep.dist.name if ep.dist else "unknown package"
    try:
        cls = ep.load()
    except Exception as exc:  # a broken plugin must name its package
        raise FormatLoadError(f"format plugin {ep.name!r} from {dist} failed to load: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Formatter)):
        raise FormatLoadError(f"format entry point {ep.name!r} from {dist} is not a Formatter subclass")
    if cls.name != ep.name:
        raise FormatLoadError(f"format entry point {ep.name!r} from {dist} names a formatter called "
                              f"{cls.name!r}: the two must match")
    return cls


@cache
def formatters() -> dict[str, type[Formatter]]:
    """Every registered format by name, sorted; loaded once per process."""
    eps = {ep.name: ep for ep in _entry_points()}  # the same name twice (stale metadata): one
    if not eps:
        raise FormatLoadError(
            f"no output format is registered (entry-point group {GROUP}): the installed aifinops "
            "metadata predates it; reinstall the package (pip install -e . in a checkout)")
    return {name: _load(eps[name]) for name in sorted(eps)}
