"""One fan-out over scopes (regions, projects, contexts, scanners) and what became of each.

Each scope runs on a daemon worker, any exception stays in its scope, and at the scan deadline
(`--timeout`) the scopes still running are abandoned (threads cannot be killed; their clients'
read timeouts end them soon after) and reported as timed out instead of being waited for.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aifinops_cli.core.models import CoverageEntry
from aifinops_cli.core.plugin import ScanContext, ScannerError

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class ScopeResult(Generic[T, R]):
    """How one scope of a fan-out ended: a value, an exception, or still running at the deadline."""

    scope: T
    value: R | None = None
    error: BaseException | None = None
    timed_out: bool = False


def scope_failure(
    ctx: ScanContext,
    exc: BaseException,
    scope: str,
    expected: tuple[type[BaseException], ...],
    explain: Callable[[BaseException], str],
) -> str:
    """The coverage message for a scope (region, project, context) that raised. What the cloud or
    the network did (`expected`) is explained; anything else is a bug in aifinops, kept for the
    exit code (4) and --debug. A ScannerError stops the whole scanner by definition."""
    if isinstance(exc, ScannerError) or not isinstance(exc, Exception):
        raise exc
    if isinstance(exc, expected):
        return explain(exc)
    logging.getLogger("aifinops").debug("%s crashed", scope, exc_info=exc)
    ctx.internal_errors.append(exc)
    return f"{scope}: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)"


def timed_out_message(ctx: ScanContext) -> str:
    return (
        f"timed out: not finished within the {ctx.options.limits.scan_timeout:g} s scan "
        "deadline (--timeout or config scan.timeout); its results are left out"
    )


def fan_out(
    scopes: Sequence[T], work: Callable[[T], R], *, workers: int, deadline: float | None, name: str = "scope"
) -> list[ScopeResult[T, R]]:
    """Run `work` on every scope with at most `workers` daemon threads; results in scope order.

    Nothing a scope raises escapes: it is its `error`. At `deadline` (time.monotonic()) the scopes
    still running or queued are returned as `timed_out` and not waited for; daemon threads never
    hold the process open at exit (executor threads would: they are joined at exit)."""
    futures: list[Future[R]] = [Future() for _ in scopes]
    todo: queue.SimpleQueue[tuple[T, Future[R]]] = queue.SimpleQueue()
    for pair in zip(scopes, futures, strict=True):
        todo.put(pair)

    def worker() -> None:
        while True:
            try:
                scope, future = todo.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(scope))
            except BaseException as exc:  # the scope's outcome, judged by the caller
                future.set_exception(exc)

    for n in range(max(1, min(workers, len(scopes)))):
        threading.Thread(target=worker, name=f"{name}-{n}", daemon=True).start()
    wait(futures, timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
    out: list[ScopeResult[T, R]] = []
    for scope, future in zip(scopes, futures, strict=True):
        if future.done() and not future.cancelled():
            error = future.exception()
            out.append(ScopeResult(scope, None if error is not None else future.result(), error))
        else:
            future.cancel()  # a queued scope never starts; a running one is abandoned
            out.append(ScopeResult(scope, timed_out=True))
    return out


@dataclass
class ScopeItems:
    """What one scope (a region, project, context) gave: its observations, a note for its coverage
    line, whether it was read whole, and the SKUs it found no price for."""

    items: list[Any]
    note: str = ""
    partial: bool = False
    unpriced: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ScopeOutcome:
    """A fan-out's result for one scanner: the finished scopes' observations and unpriced SKUs,
    and one coverage line per scope, in scope order."""

    observations: list[Any] = field(default_factory=list)
    coverage: list[CoverageEntry] = field(default_factory=list)
    unpriced: list[dict[str, str]] = field(default_factory=list)


def _explain_in(explain: Callable[[BaseException, str], str], scope: str, exc: BaseException) -> str:
    return explain(exc, scope)


def scan_scopes(
    ctx: ScanContext,
    scanner: str,
    scopes: Sequence[T],
    work: Callable[[T], ScopeItems],
    *,
    expected: tuple[type[BaseException], ...],
    explain: Callable[[BaseException, str], str],
    name: Callable[[T], str] = str,
    label: Callable[[str], str] = lambda n: n,
    fatal: Callable[[BaseException], bool] = lambda exc: False,
) -> ScopeOutcome:
    """Run `work` per scope concurrently (at most `--workers` at once, up to the scan deadline).

    A scope that fails in any way (refused, unreachable, an unparsable answer, a bug) or is still
    running at the deadline is one "failed" coverage line and the other scopes are kept. `name`
    is the scope's name in messages, `label` its coverage scope ("project p1"), `explain(exc,
    name)` says what an `expected` error means. When every scope failed and one failure is
    `fatal` (bad credentials: every scope would repeat it), the scanner stops with that
    explanation instead (ScannerError, one line for the whole scanner)."""
    workers = max(1, min(ctx.options.max_workers, len(scopes)))
    out = ScopeOutcome()
    stop: BaseException | None = None
    for done in fan_out(scopes, work, workers=workers, deadline=ctx.deadline, name=scanner):
        scope_name = name(done.scope)
        ctx.progress(f"{scanner}: {scope_name} done")
        if done.value is not None:
            got = done.value
            out.observations.extend(got.items)
            out.unpriced.extend(got.unpriced)
            out.coverage.append(
                CoverageEntry(
                    scanner,
                    label(scope_name),
                    "partial" if got.partial else "ok",
                    got.note,
                    resources=len(got.items),
                    errors=int(got.partial),
                )
            )
            continue
        if done.timed_out:
            message = timed_out_message(ctx)
        else:
            exc = done.error
            assert exc is not None
            message = scope_failure(
                ctx, exc, scope_name, expected, functools.partial(_explain_in, explain, scope_name)
            )
            if isinstance(exc, expected) and fatal(exc):
                stop = exc
        out.coverage.append(CoverageEntry(scanner, label(scope_name), "failed", message, errors=1))
    if stop is not None and all(c.status == "failed" for c in out.coverage):
        raise ScannerError(explain(stop, ""))
    return out
