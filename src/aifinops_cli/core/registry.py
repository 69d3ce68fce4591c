"""Scanner registry fed by the `aifinops.scanners` entry-point group.

Built-in scanners are registered through the same group in our own pyproject, so a third-party
package adds one exactly the way we do.

Entry-point names are `<provider>.<what>` (or just `<provider>`): a scan imports only the
scanners whose provider is in play, so an LLM-log scan never pays for importing boto3 or the
Kubernetes client. A plugin whose name starts with a provider we do not know is always loaded
and asked (`Scanner.applies`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from aifinops_cli.core.plugin import Scanner

GROUP = "aifinops.scanners"
KNOWN_PROVIDERS = frozenset({"aws", "gcp", "k8s", "llm", "billing"})


class PluginLoadError(Exception):
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
    """Entry points of these providers, plus any plugin whose provider we cannot tell."""
    def wanted(name: str) -> bool:
        p = provider_of(name)
        return p in providers or p not in KNOWN_PROVIDERS
    return wanted
