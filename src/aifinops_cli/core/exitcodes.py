"""Exit codes: stable, documented in the README, relied on by CI jobs."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # scan finished; nothing at or above --fail-on (or no --fail-on)
    FINDINGS = 1  # a new, unsuppressed finding at or above --fail-on
    USAGE = 2  # bad flags, config, rules, baseline or input: nothing was scanned
    SCAN_FAILED = 3  # the scan ran but no scope could be scanned (e.g. no credentials)
    INTERNAL = 4  # a bug in aifinops or a plugin: rerun with --debug and report it
    LOCKED = 5  # another run holds the run lock in the state dir (cron overlap): nothing was scanned


MEANING = {
    ExitCode.OK: "ok",
    ExitCode.FINDINGS: "new findings at or above --fail-on",
    ExitCode.USAGE: "usage or input error, nothing scanned",
    ExitCode.SCAN_FAILED: "no scope could be scanned",
    ExitCode.INTERNAL: "internal error, rerun with --debug and report it",
    ExitCode.LOCKED: "another run holds the lock, nothing scanned",
}


def meaning(code: int) -> str:
    """What an exit code means, in a few words (the one line `-q` still prints on stderr)."""
    try:
        return MEANING[ExitCode(code)]
    except ValueError:
        return "unknown"
