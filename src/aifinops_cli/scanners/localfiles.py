"""Walking an input directory without one unreadable corner losing the rest.

`Path.rglob` then `is_file()` raises PermissionError for an entry inside a directory that can be
listed but not searched (mode r-- without x), which failed a whole scanner. Here a directory
that cannot be listed or searched, or a file that cannot be read, is one problem line; every
other file is returned.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Unreadable:
    path: str
    message: str


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def walk_files(root: str, keep: Callable[[str], bool]) -> tuple[list[str], list[Unreadable]]:
    """The regular files under `root` whose name `keep` accepts (sorted), and one Unreadable per
    directory that cannot be listed or searched and per kept file that cannot be read."""
    files: list[str] = []
    problems: list[Unreadable] = []

    def listing_failed(exc: OSError) -> None:
        problems.append(
            Unreadable(
                str(exc.filename or root), f"directory not readable ({_reason(exc)}): its files are skipped"
            )
        )

    for dirpath, dirnames, filenames in os.walk(root, onerror=listing_failed):
        if not os.access(dirpath, os.X_OK):  # listable, but no entry in it can be opened
            problems.append(
                Unreadable(dirpath, "directory not searchable (permissions: no x): its files are skipped")
            )
            dirnames.clear()
            continue
        dirnames.sort()
        for name in filenames:
            if not keep(name):
                continue
            path = os.path.join(dirpath, name)
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:  # a dangling symlink, or a race with a writer
                problems.append(Unreadable(path, f"cannot open ({_reason(exc)})"))
                continue
            if not stat.S_ISREG(mode):
                continue
            if not os.access(path, os.R_OK):
                problems.append(Unreadable(path, "file is not readable (permissions)"))
                continue
            files.append(path)
    return sorted(files), problems
