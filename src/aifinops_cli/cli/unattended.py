"""What `scan` does for unattended runs: log file, run lock, suppression files, history.

Kept out of `cli/scan.py` so the scan command reads as the scan; this module owns the order:

1. before scanning: check the suppression files and the history store (a bad file or an
   unwritable state dir is a usage error, exit 2, before a long scan), open the log file, take
   the run lock (exit 5 if another run holds it);
2. after the scan (the pipeline applied baseline and suppressions and scored visibility): warn
   about expired suppressions, compare with the previous like run and record this one;
3. at the end: one summary line in the log file.

Everything is released when the click context closes, however the command ends.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import typer

from aifinops_cli.cli.common import GlobalOptions, fail, stderr_console
from aifinops_cli.core import suppressions as supp
from aifinops_cli.core.config import Config
from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.core.history import (
    DEFAULT_KEEP_RUNS,
    History,
    HistoryError,
    resolve_state_dir,
    since_last_run,
)
from aifinops_cli.core.lock import LockHeld, run_lock
from aifinops_cli.core.models import Report
from aifinops_cli.core.pipeline import ScanOutcome
from aifinops_cli.core.report import to_dict
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.output.safe import markup

# the run's own lines go to the log file only: stderr already gets the human version of each
log = logging.getLogger("aifinops.run")
log.propagate = False
log.addHandler(logging.NullHandler())
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


class _LogFile(logging.FileHandler):
    """A log file that cannot sink the run: a full disk or a vanished mount is one warning on
    stderr, then the file is left alone; the scan and its exit code go on as if no log was asked."""

    broken: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.broken is None:
            super().emit(record)

    def flush(self) -> None:
        if self.broken is None:
            try:
                super().flush()
            except OSError as exc:
                self._broke(exc)

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        self._broke(exc if isinstance(exc, BaseException) else OSError("write failed"))

    def _broke(self, exc: BaseException) -> None:
        if self.broken is None:
            self.broken = getattr(exc, "strerror", None) or str(exc)
            sys.stderr.write(
                f"aifinops: warning: cannot write the log file {self.baseFilename}: "
                f"{self.broken}; logging to it stopped, the scan goes on\n"
            )

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:
            self._broke(exc)


@contextlib.contextmanager
def log_file(path: Path, debug: bool) -> Iterator[None]:
    """Append aifinops' log records to `path` without making stderr any chattier."""
    try:
        if path.is_dir():
            fail(f"cannot open log file {path}: is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _LogFile(path, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot open log file {path}: {exc.strerror}")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.DEBUG if debug else logging.INFO)
    root = logging.getLogger()
    ours = logging.getLogger("aifinops")
    saved_level = ours.level
    raised: list[logging.Handler] = []
    for h in root.handlers:  # INFO for the file must not reach the console handlers
        if h.level == logging.NOTSET:
            h.setLevel(root.level)
            raised.append(h)
    root.addHandler(handler)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    ours.setLevel(logging.DEBUG if debug else logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        log.removeHandler(handler)
        handler.close()
        ours.setLevel(saved_level)
        for h in raised:
            h.setLevel(logging.NOTSET)


def _config_paths(value: Any, config: Config) -> list[Path]:
    items = [value] if isinstance(value, str) else list(value or [])
    base = Path(config.source).parent if config.source not in ("", "defaults") else None
    out = []
    for item in items:
        path = Path(str(item)).expanduser()
        out.append(base / path if base is not None and not path.is_absolute() else path)
    return out


@dataclass
class UnattendedRun:
    opts: GlobalOptions
    state_dir: Path
    record: bool
    lock: bool
    suppression_files: list[Path]
    log_path: Path | None
    keep_runs: int = DEFAULT_KEEP_RUNS
    today: date = field(default_factory=date.today)
    entries: list[supp.Suppression] = field(default_factory=list)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @classmethod
    def start(
        cls,
        ctx: typer.Context,
        opts: GlobalOptions,
        config: Config,
        *,
        state_dir: Path | None,
        record: bool | None,
        lock: bool | None,
        suppressions: list[Path],
        log_path: Path | None,
    ) -> UnattendedRun:
        """Check inputs, open the log, take the lock; all released when `ctx` closes."""
        section = config.section("history")
        if not isinstance(section.get("record", False), bool):
            fail(f"{config.source}: history.record must be true or false")
        keep = section.get("keep_runs", DEFAULT_KEEP_RUNS)
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 2:
            fail(f"{config.source}: history.keep_runs must be a whole number of at least 2")
        if record is None:
            record = bool(section.get("record", False))
        files = list(suppressions) or _config_paths(config.sections.get("suppressions"), config)
        run = cls(
            opts=opts,
            state_dir=resolve_state_dir(state_dir, section, config.source),
            record=record,
            lock=record if lock is None else lock,
            suppression_files=files,
            log_path=log_path,
            keep_runs=keep,
        )
        ctx.call_on_close(run.stack.close)
        try:
            run.entries = supp.load(files)
        except SourceError as exc:
            fail(str(exc))
        if log_path is not None:
            run.stack.enter_context(log_file(log_path, opts.debug))
        log.info("scan starting (state dir %s, record=%s, lock=%s)", run.state_dir, run.record, run.lock)
        if run.lock:
            try:
                path = run.stack.enter_context(run_lock(run.state_dir))
            except LockHeld as exc:
                log.error("%s", exc)
                fail(str(exc), ExitCode.LOCKED)
            except OSError as exc:
                fail(f"cannot take the run lock in {run.state_dir}: {exc.strerror}")
            log.info("holding the run lock %s", path)
        if run.record:
            try:
                with History.open(run.state_dir):
                    pass
            except HistoryError as exc:
                fail(str(exc))
        return run

    def finish(self, outcome: ScanOutcome) -> None:
        """Say which suppressions expired, then record the run in history (the pipeline applied
        the suppressions and scored visibility: history records the final view)."""
        report = outcome.report
        err = stderr_console(self.opts)
        for entry in outcome.suppression.expired if outcome.suppression is not None else []:
            message = (
                f"suppression {entry.source} ({entry.selector()}) expired on "
                f"{entry.expires}; {entry.matched} finding(s) count again: renew or "
                "remove it"
            )
            log.warning("%s", message)
            if not self.opts.quiet:
                err.print(f"[yellow]warning:[/] {markup(message)}")
        if not self.record:
            return
        if report.nothing_scanned:
            log.warning("run not recorded: no scope could be scanned")
            if not self.opts.quiet:
                err.print("[yellow]note:[/] not recorded in history: no scope could be scanned")
            return
        try:
            with History.open(self.state_dir) as store:
                previous = store.previous(report.scanners)
                doc = to_dict(report)
                run_id = store.record(doc)
                report.history = since_last_run(previous, doc, store.trend("category"))
                report.history["run_id"] = run_id
                store.update_report(run_id, to_dict(report))
                pruned = store.prune(self.keep_runs)
        except (HistoryError, sqlite3.Error, OSError) as exc:
            # the scan itself succeeded: say so, keep the exit code
            log.error("could not record the run: %s", exc)
            if not self.opts.quiet:
                err.print(f"[yellow]warning:[/] could not record the run in history: {markup(exc)}")
            return
        log.info(
            "recorded run %s in %s%s",
            run_id,
            store.path,
            f"; pruned {pruned} run(s) beyond history.keep_runs={self.keep_runs}" if pruned else "",
        )
        if not self.opts.quiet:
            err.print(f"recorded run {run_id} in {markup(store.path)}")

    def done(self, report: Report, written: Sequence[Path | str], code: int) -> None:
        s = to_dict(report)["summary"]
        for path in written:
            log.info("wrote %s", path)
        log.info(
            "scan finished: $%.2f/month in %d findings (%d suppressed), exit %d",
            s["monthly_waste_usd"],
            s["findings"],
            len(report.findings) - len(report.active_findings),
            code,
        )
