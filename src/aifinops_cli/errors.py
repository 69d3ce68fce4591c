"""The one base class of aifinops' expected errors, carrying the exit code it ends a run with.

An expected error is one the user can fix (a bad file, a missing credential, a held lock): the
CLI prints its message as one line on stderr and exits with its code, never a traceback. Any
other exception is a bug: exit 4 (cli/app.py). Each module keeps its own subclass (SourceError
with file:line, HistoryError, LockHeld, ...) so callers can still catch one kind; the CLI maps
them all by this class (cli/common.py, `ErrorMappingGroup`).
"""

from __future__ import annotations

from aifinops_cli.core.exitcodes import ExitCode


class AifinopsError(Exception):
    """An expected error: `str(exc)` is the one line the user reads, `exit_code` what it means.

    The code is a class attribute (a subclass sets its own, e.g. LockHeld: 5) that one raise can
    override with `exit_code=`."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, *args: object, exit_code: ExitCode | None = None) -> None:
        super().__init__(*args)
        if exit_code is not None:
            self.exit_code = exit_code
