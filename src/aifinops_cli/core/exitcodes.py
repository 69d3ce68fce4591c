"""Exit codes: stable, documented in the README, relied on by CI jobs."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # scan finished; nothing at or above --fail-on (or no --fail-on)
    FINDINGS = 1  # a new, unsuppressed finding at or above --fail-on
    USAGE = 2  # bad flags, config, rules, baseline or input: nothing was scanned
    SCAN_FAILED = 3  # the scan ran but no scope could be scanned (e.g. no credentials)
    INTERNAL = 4  # a bug in aifinops or a plugin: rerun with --debug and report it
    LOCKED = 5  # another run holds the run lock in the state dir (cron overlap): nothing was scanned
