"""Options and helpers shared by the sub-commands."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from aifinops_cli.core.exitcodes import ExitCode


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


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """An expected error: one line on stderr, no traceback, a documented exit code."""
    sys.stderr.write(f"aifinops: error: {message}\n")
    raise typer.Exit(int(code))


def global_options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a cron run never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
