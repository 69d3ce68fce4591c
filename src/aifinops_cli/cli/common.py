"""Options and helpers shared by the sub-commands."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from aifinops_cli.core.exitcodes import ExitCode, meaning
from aifinops_cli.errors import AifinopsError
from aifinops_cli.output.safe import plain

if TYPE_CHECKING:
    # the context TyperGroup.invoke takes: typer >= 0.26 carries its own copy of click and no longer
    # installs click, so nothing here imports `click` at run time
    from typer._click import Context as ClickContext

    from aifinops_cli.core.models import Report
    from aifinops_cli.output.base import Formatter

STDOUT = "-"


class SummaryFormat(StrEnum):
    """The one list of formats every command but `scan` prints (forecast, history, diff...);
    `scan` writes any registered report format (output/, cli/help.py format_names)."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


FormatOption = Annotated[
    SummaryFormat,
    typer.Option("--format", "-f", case_sensitive=False, help=f"Print as {', '.join(SummaryFormat)}."),
]


@dataclass
class GlobalOptions:
    config: Path | None = None
    debug: bool = False
    quiet: bool = False
    no_color: bool = False


def no_color(opts: GlobalOptions) -> bool:
    return opts.no_color or "NO_COLOR" in os.environ


def stdout_console(opts: GlobalOptions) -> Console:
    return Console(no_color=no_color(opts), highlight=False, soft_wrap=False)


def stderr_console(opts: GlobalOptions) -> Console:
    return Console(stderr=True, no_color=no_color(opts), highlight=False)


def fail(message: str, code: ExitCode = ExitCode.USAGE, why: str | None = None) -> NoReturn:
    """An expected error: one line on stderr (also with -q), no traceback, a documented exit code
    and what it means (or `why`, when the code's usual meaning does not fit), so a cron mail says
    what happened."""
    sys.stderr.write(f"aifinops: error: {plain(message)} (exit {int(code)}: {why or meaning(code)})\n")
    raise typer.Exit(int(code))


class ErrorMappingGroup(TyperGroup):
    """The root command group: an `AifinopsError` raised anywhere below a command ends the run as
    `fail` does (its one-line message, its exit code, no traceback). In the group rather than in
    `main()` so a CliRunner invocation and the console script exit alike."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except AifinopsError as exc:
            fail(str(exc), exc.exit_code)


def global_options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


class OutputPathError(AifinopsError):
    """A report destination aifinops will not write to (a directory, a device, a FIFO...)."""


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def report_target(path: Path) -> Path:
    """Where a report for `path` really goes: a regular file, new or existing.

    A symlink of the user's own is followed (the file it points to is replaced, the link stays),
    the way `cp` and shell redirection treat one; a symlink someone else owns is refused (one
    planted in a shared --output-dir must not aim a root cron job at /etc). Anything but a regular
    file at the end is refused, so `-o /dev/null` run as root no longer turns the device into a
    file."""
    if os.path.islink(path):
        owner = os.lstat(path).st_uid
        if owner != os.geteuid():  # a link planted in a shared directory: protected_symlinks' rule
            raise OutputPathError(
                f"it is a symlink owned by another user (uid {owner}): refused, "
                "as the kernel refuses to follow one in a shared directory"
            )
    real = Path(os.path.realpath(path))
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        parent = real.parent
        if parent.exists() and not parent.is_dir():
            raise OutputPathError(f"{parent} is not a directory") from None
        return real
    except OSError as exc:
        raise OutputPathError(exc.strerror or str(exc)) from None
    if stat.S_ISREG(mode):
        return real
    kind = next((label for test, label in _KINDS if test(mode)), "not a regular file")
    via = f" (the symlink {path} points to {real})" if real != Path(os.path.abspath(path)) else ""
    raise OutputPathError(
        f"it is {kind}{via}: reports are written only to regular files (use -o - for stdout)"
    )


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[IO[str]]:
    """A text handle whose content replaces `path` only once complete (temporary file in the
    same directory, fsync, rename), so a cron run never leaves half a report."""
    target = report_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with contextlib.suppress(OSError):  # keep an existing report's permissions
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        if not target.exists():
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_report(path: Path, formatter: Formatter, report: Report) -> None:
    """One format to a regular file, streamed (see Formatter.write_to), atomically."""
    with atomic_file(path) as handle:
        formatter.write_to(report, handle)
