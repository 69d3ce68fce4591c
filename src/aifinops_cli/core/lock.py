"""A run lock, so two scheduled runs never overlap.

Cron does not know that last night's scan is still running when the next one starts. Two scans
would double the API calls against the cloud and race on the history store, so a scan takes an
exclusive, non-blocking `flock` on a file in the state directory. The kernel drops the lock when
the process exits, however it exits: a crashed run never leaves a stale lock behind. The file
keeps the holder's pid and start time only so the refusal message can name it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.errors import AifinopsError

LOCK_NAME = "scan.lock"


class LockHeld(AifinopsError):
    """Another run holds the lock; `holder` is what it wrote about itself (may be empty)."""

    exit_code = ExitCode.LOCKED

    def __init__(self, path: Path, holder: str) -> None:
        self.path, self.holder = path, holder
        who = f" ({holder})" if holder else ""
        super().__init__(f"another aifinops run holds {path}{who}; not starting a second one")


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: lock the first byte instead
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def run_lock(state_dir: Path) -> Iterator[Path]:
    """Hold the exclusive run lock in `state_dir` for the duration; raise LockHeld if taken."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                holder = os.read(fd, 512).decode("utf-8", "replace").strip()
            except OSError:
                holder = ""
            raise LockHeld(path, holder)
        note = (
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{datetime.now(UTC).isoformat(timespec='seconds').replace('+00:00', 'Z')}"
        )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, note.encode() + b"\n")
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
