"""`aifinops baseline create`: this estate's findings as the baseline a CI job compares against.

It is `scan` with the same flags (providers, inputs, rules, suppressions), writing the JSON report
to the baseline file and never failing on findings: the first run of a `--fail-on` job needs one,
and `scan --baseline FILE` with a missing FILE says to run this."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from aifinops_cli.cli import scan
from aifinops_cli.cli.common import global_options, stderr_console
from aifinops_cli.output.safe import markup

DEFAULT_PATH = Path(".aifinops/baseline.json")
# the scan flags that choose reports or a gate: a baseline is one JSON file and fails nothing
REPLACED = {
    "output_format": ["json"],
    "output": None,
    "output_dir": None,
    "fail_on": None,
    "fail_on_cost": None,
    "baseline": None,
    "timestamped": False,
    "notify_urls": None,  # a baseline alerts nobody
    "notify_min_severity": None,
    "notify_min_usd": None,
    "split_by": None,
}

app = typer.Typer(help="Baselines: the findings a CI job already knows about.", no_args_is_help=True)


def create_command() -> Callable[..., None]:
    """`baseline create`: every `scan` flag except those in REPLACED, plus --output."""
    scan_cmd = scan.scan_command()
    base = inspect.signature(scan_cmd)
    kept = [p for p in base.parameters.values() if p.name not in REPLACED]
    out = inspect.Parameter(
        "baseline_output",
        inspect.Parameter.KEYWORD_ONLY,
        default=DEFAULT_PATH,
        annotation=Annotated[
            Path,
            typer.Option("--output", "-o", help="Where to write the baseline (commit it beside the CI job)."),
        ],
    )
    params = [*kept, out]

    @functools.wraps(scan_cmd)
    def command(ctx: typer.Context, **kwargs: Any) -> None:
        path: Path = kwargs.pop("baseline_output")
        values = {k: v for k, v in REPLACED.items() if k in base.parameters}
        try:
            scan_cmd(ctx, **kwargs, **{**values, "output": path})
        except typer.Exit as done:
            if done.exit_code == 0 and not global_options(ctx).quiet:
                count = _count(path)
                stderr_console(global_options(ctx)).print(
                    f"baseline: {count} finding(s) are now known. Commit {markup(path)} and run "
                    f"`aifinops scan --baseline {markup(path)} --fail-on high` (or --fail-on-cost USD): "
                    "only new findings fail the job."
                )
            raise

    command.__doc__ = "Write this estate's findings as a baseline: later scans fail only on new ones."
    command.__signature__ = base.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    del command.__wrapped__
    return command


def _count(path: Path) -> int:
    try:
        return len(json.loads(path.read_text(encoding="utf-8"))["findings"])
    except (OSError, ValueError, KeyError, TypeError):  # written a moment ago: should not happen
        sys.stderr.write(f"aifinops: warning: cannot read back {path}\n")
        return 0


app.command("create")(create_command())
