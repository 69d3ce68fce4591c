"""Scanner registry fed by the `aifinops.scanners` entry-point group.

Built-in scanners are registered through the same group in our own pyproject, so a third-party
package adds one exactly the way we do.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from aifinops_cli.scanners.interface import Scanner

GROUP = "aifinops.scanners"


class PluginLoadError(Exception):
    pass


def load_scanners() -> dict[str, type[Scanner]]:
    found: dict[str, type[Scanner]] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must name its package
            dist = ep.dist.name if ep.dist else "unknown package"
            raise PluginLoadError(
                f"scanner plugin {ep.name!r} from {dist} failed to load: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Scanner)):
            raise PluginLoadError(f"entry point {ep.name!r} is not a Scanner subclass")
        found[cls.name] = cls
    return dict(sorted(found.items()))
