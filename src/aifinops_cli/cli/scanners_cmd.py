"""`aifinops scanners`: what can be scanned, including plugins from other packages."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from aifinops_cli.cli.common import fail, global_options, stdout_console
from aifinops_cli.core.registry import GROUP, PluginLoadError, load_scanners
from aifinops_cli.output.safe import plain

app = typer.Typer(help="List the scanners (built in and from plugins).", no_args_is_help=True)


@app.command("list")
def list_scanners(
    ctx: typer.Context,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """List every registered scanner (entry-point group `aifinops.scanners`)."""
    try:
        found = load_scanners()
    except PluginLoadError as exc:
        fail(str(exc))
    rows = [{"name": c.name, "provider": c.provider, "kinds": list(c.kinds),
             "description": c.description, "module": c.__module__} for c in found.values()]
    if output_format == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} scanners (entry points: {GROUP})")
    for col in ("Name", "Provider", "Observes", "Description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*(Text(plain(v)) for v in (r["name"], r["provider"], ", ".join(r["kinds"]),
                                                   r["description"])))
    stdout_console(global_options(ctx)).print(table)
