"""Registries fed by entry points: scanners (`aifinops.scanners`) and providers
(`aifinops.providers`).

Built-in scanners and providers are registered through the same groups in our own pyproject, so
a third-party package adds one exactly the way we do.

Entry-point names are `<provider>.<what>` (or just `<provider>`): a scan imports only the
scanners whose provider is in play, so an LLM-log scan never pays for importing boto3 or the
Kubernetes client. A plugin whose name starts with a provider we do not know is always loaded
and asked (`Scanner.applies`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from aifinops_cli.core.plugin import Provider, Scanner
from aifinops_cli.errors import AifinopsError

GROUP = "aifinops.scanners"


class PluginLoadError(AifinopsError):
    pass


def provider_of(entry_name: str) -> str:
    return entry_name.split(".", 1)[0]


def _load(ep: EntryPoint) -> type[Scanner]:
    try:
        cls = ep.load()
    except Exception as exc:  # a broken plugin must name its package
        dist = ep.dist.name if ep.dist else "unknown package"
        raise PluginLoadError(
            f"scanner plugin {ep.name!r} from {dist} failed to load: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Scanner)):
        raise PluginLoadError(f"entry point {ep.name!r} is not a Scanner subclass")
    return cls


@cache
def _entry_points() -> tuple[EntryPoint, ...]:
    """The group's entry points, read from package metadata once per process.

    Once: the metadata walk is not free, and a process that later loses the right to read its
    site-packages (a scan that drops privileges) still knows its scanners.
    """
    return tuple(entry_points(group=GROUP))


def entry_names() -> list[str]:
    """Every registered entry-point name, without importing anything."""
    return sorted({ep.name for ep in _entry_points()})


def load_scanners(wanted: Callable[[str], bool] | None = None) -> dict[str, type[Scanner]]:
    """Import the scanners whose entry-point name `wanted` accepts (all by default), by name."""
    found: dict[str, type[Scanner]] = {}
    for ep in _entry_points():
        if wanted is None or wanted(ep.name):
            cls = _load(ep)
            found[cls.name] = cls
    return dict(sorted(found.items()))


def for_providers(providers: set[str]) -> Callable[[str], bool]:
    """Entry points of these providers, plus any plugin whose provider is not registered."""
    known = set(provider_names())

    def wanted(name: str) -> bool:
        p = provider_of(name)
        return p in providers or p not in known
    return wanted


PROVIDER_GROUP = "aifinops.providers"
OWN_DIST = "aifinops"


@cache
def _provider_entry_points() -> tuple[EntryPoint, ...]:
    """The `aifinops.providers` entry points, read once per process (see `_entry_points`).

    A development install whose metadata predates this group (an editable install made before
    it existed: its entry points are only rewritten by reinstalling) would otherwise lose the
    built-in providers; then the group is read from the pyproject.toml of the checkout this
    module was imported from, the same declaration the metadata is built from."""
    found = tuple(entry_points(group=PROVIDER_GROUP))
    if any(ep.dist is not None and ep.dist.name == OWN_DIST for ep in found):
        return found
    return found + tuple(ep for ep in _source_tree_entry_points(PROVIDER_GROUP)
                         if ep.name not in {e.name for e in found})


def _source_tree_entry_points(group: str) -> tuple[EntryPoint, ...]:
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    if data.get("project", {}).get("name") != OWN_DIST:
        return ()
    table = data["project"].get("entry-points", {}).get(group, {})
    return tuple(EntryPoint(name, value, group) for name, value in table.items())


def provider_names() -> list[str]:
    """Every registered provider's name, without importing anything."""
    return sorted({ep.name for ep in _provider_entry_points()})


@cache
def load_providers() -> dict[str, type[Provider]]:
    """Every registered provider class, by name (imported once: provider modules are small and
    import no cloud client)."""
    found: dict[str, type[Provider]] = {}
    for ep in _provider_entry_points():
        try:
            cls = ep.load()
        except Exception as exc:
            dist = ep.dist.name if ep.dist else "unknown package"
            raise PluginLoadError(f"provider plugin {ep.name!r} from {dist} failed to load: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise PluginLoadError(f"entry point {ep.name!r} in {PROVIDER_GROUP} is not a Provider subclass")
        if cls.name != ep.name:
            raise PluginLoadError(f"provider entry point {ep.name!r} names a provider called {cls.name!r}")
        found[cls.name] = cls
    return dict(sorted(found.items()))
