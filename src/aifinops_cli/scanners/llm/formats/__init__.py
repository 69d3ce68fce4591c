"""Log formats: one module per vendor family, each registering its shapes with `register`.

Adding a format means one new module here (and its test fixture): this package imports every
module in it, and detection, `--llm-log-format` and the engine read the registry.
"""

from __future__ import annotations

import importlib
import pkgutil

from aifinops_cli.scanners.llm.formats.core import (
    CANONICAL,
    DEFAULT_ATTRIBUTE_KEYS,
    MACROS,
    PLAIN_CSV_COLUMNS,
    REGISTRY,
    Extract,
    Format,
    Spec,
    json_select,
    q,
    register,
)

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _mod != "core":
        importlib.import_module(f"{__name__}.{_mod}")


def ordered() -> list[Format]:
    """Formats in detection order (specific shapes before generic ones)."""
    return sorted(REGISTRY.values(), key=lambda f: (f.order, f.name))


__all__ = [
    "CANONICAL",
    "DEFAULT_ATTRIBUTE_KEYS",
    "MACROS",
    "PLAIN_CSV_COLUMNS",
    "REGISTRY",
    "Extract",
    "Format",
    "Spec",
    "json_select",
    "ordered",
    "q",
    "register",
]
