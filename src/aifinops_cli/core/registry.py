"""Registries fed by entry points: providers (`aifinops.providers`), scanners
(`aifinops.scanners`) and output formats (`aifinops.formats`, read by output/__init__.py).

Built-ins are registered through the same groups in our own pyproject, so a third-party package
adds one exactly the way we do. Each group is read from package metadata once per process: the
walk is not free, and a process that later loses the right to read its site-packages (a scan
that drops privileges) still knows its plugins.

Scanner entry-point names are `<provider>.<what>` (or just `<provider>`): a scan imports only the
scanners whose provider is in play, so an LLM-log scan never pays for importing boto3 or the
Kubernetes client. A scanner whose name starts with a provider that is not registered is always
loaded and asked (`Scanner.applies`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TypeVar

from aifinops_cli.core.plugin import Provider, Scanner
from aifinops_cli.errors import AifinopsError

GROUP = "aifinops.scanners"
PROVIDER_GROUP = "aifinops.providers"
FORMAT_GROUP = "aifinops.formats"
OWN_DIST = "aifinops"

T = TypeVar("T")


class PluginLoadError(AifinopsError):
    """A plugin that does not import, is not of its group's class, or is missing (exit 2)."""


@cache
def group_entry_points(group: str) -> tuple[EntryPoint, ...]:
    """A group's entry points, read once per process; our own group empty means the installed
    metadata predates it (an editable install is only rewritten by reinstalling)."""
    found = tuple(entry_points(group=group))
    if not found and group in (PROVIDER_GROUP, GROUP, FORMAT_GROUP):
        raise PluginLoadError(
            f"nothing is registered in the entry-point group {group}: the installed "
            "aifinops metadata predates it; reinstall the package (pip install -e . "
            "in a checkout)"
        )
    return found


def load_entry(ep: EntryPoint, base: type[T], what: str) -> type[T]:
    """Import one entry point and check it is a `base` subclass named as its entry (a broken
    plugin must name its package)."""
    dist = ep.dist.name if ep.dist else "unknown package"
    try:
        cls = ep.load()
    except Exception as exc:
        raise PluginLoadError(f"{what} plugin {ep.name!r} from {dist} failed to load: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginLoadError(f"{what} entry point {ep.name!r} from {dist} is not a {base.__name__} subclass")
    return cls


def provider_of(entry_name: str) -> str:
    return entry_name.split(".", 1)[0]


def entry_names() -> list[str]:
    """Every registered scanner entry-point name, without importing anything."""
    return sorted({ep.name for ep in group_entry_points(GROUP)})


def load_scanners(wanted: Callable[[str], bool] | None = None) -> dict[str, type[Scanner]]:
    """Import the scanners whose entry-point name `wanted` accepts (all by default), by name."""
    found: dict[str, type[Scanner]] = {}
    for ep in group_entry_points(GROUP):
        if wanted is None or wanted(ep.name):
            # mypy refuses an abstract class for a type[T] parameter even when, as here, it only
            # reaches issubclass (python/mypy#4717)
            cls = load_entry(ep, Scanner, "scanner")  # type: ignore[type-abstract]
            found[cls.name] = cls
    return dict(sorted(found.items()))


def for_providers(providers: set[str]) -> Callable[[str], bool]:
    """Entry points of these providers, plus any plugin whose provider is not registered."""
    known = set(provider_names())

    def wanted(name: str) -> bool:
        p = provider_of(name)
        return p in providers or p not in known

    return wanted


def provider_names() -> list[str]:
    """Every registered provider's name, without importing anything."""
    return sorted({ep.name for ep in group_entry_points(PROVIDER_GROUP)})


@cache
def load_providers() -> dict[str, type[Provider]]:
    """Every registered provider class, by name (imported once: provider modules are small and
    import no cloud client)."""
    found: dict[str, type[Provider]] = {}
    for ep in group_entry_points(PROVIDER_GROUP):
        cls = load_entry(ep, Provider, "provider")
        if cls.name != ep.name:
            raise PluginLoadError(f"provider entry point {ep.name!r} names a provider called {cls.name!r}")
        found[cls.name] = cls
    return dict(sorted(found.items()))


def provider_rule_paths() -> list[Path]:
    """The installed providers' own rules files, loaded after the bundled rules and before
    `--rules` (a user's rule with the same id replaces a provider's)."""
    return [path for cls in load_providers().values() for path in cls.rule_paths()]


def provider_catalog_paths() -> list[Path]:
    """The installed providers' own price catalogs, before the config's `pricing.catalogs`."""
    return [path for cls in load_providers().values() for path in cls.catalog_paths()]
