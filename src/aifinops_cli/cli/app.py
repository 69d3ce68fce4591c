"""The root `aifinops` app: global options on the callback, one sub-app or command per file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from aifinops_cli import __version__
from aifinops_cli.cli import baseline_cmd, economics_cmd, forecast, history_cmd, rules_cmd, scan, scanners_cmd
from aifinops_cli.cli.common import GlobalOptions
from aifinops_cli.cli.help import RootGroup
from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.output.safe import plain

app = typer.Typer(
    name="aifinops",
    help="Audit what AI workloads really cost and find the money that leaks out of them.",
    no_args_is_help=True,
    # any AifinopsError: its one line and exit code (errors.py); the flags below also after a
    # command (`aifinops scan -q`); plain value placeholders (cli/help.py)
    cls=RootGroup,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aifinops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            # $AIFINOPS_CONFIG is read by core/config.py find_config_file (the one place), not here
            help="Config file (default: $AIFINOPS_CONFIG, ./aifinops.yaml, ~/.config/aifinops/config.yaml).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Log details and show tracebacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also NO_COLOR).")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(config=config, debug=debug, quiet=quiet, no_color=no_color)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not debug:
        for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


app.command("scan")(scan.scan_command())
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(scanners_cmd.app, name="scanners")
# sub-apps: each later command module registers itself on the line below this one.
app.command("forecast")(forecast.forecast)
app.command("history")(history_cmd.history)
app.command("diff")(history_cmd.diff)
app.add_typer(baseline_cmd.app, name="baseline")
app.command("economics")(economics_cmd.economics)


def main() -> None:
    """Entry point: an unexpected error is one line and exit 4, a traceback only with --debug."""
    try:
        app(prog_name="aifinops")
    except KeyboardInterrupt:
        sys.stderr.write("aifinops: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(
            f"aifinops: internal error: {type(exc).__name__}: {plain(exc)} "
            "(exit 4: rerun with --debug for the traceback, and please report it)\n"
        )
        sys.exit(int(ExitCode.INTERNAL))
