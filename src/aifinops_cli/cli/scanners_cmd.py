"""`aifinops scanners`: what can be scanned (providers and their scanners), plugins included."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.text import Text

from aifinops_cli.cli.common import FormatOption, SummaryFormat, fail, global_options, stdout_console
from aifinops_cli.core.registry import (
    GROUP,
    PROVIDER_GROUP,
    PluginLoadError,
    entry_names,
    load_providers,
    load_scanners,
    provider_of,
)
from aifinops_cli.output.markdown import table as md_table
from aifinops_cli.output.safe import plain
from aifinops_cli.output.table import Column, fit_table, left_out

app = typer.Typer(help="List the providers and scanners (built in and from plugins).", no_args_is_help=True)


def provider_rows() -> list[dict[str, Any]]:
    """Each registered provider: its help panel, config section, scanners (by entry-point name,
    not imported) and whether its optional client libraries are installed."""
    names = entry_names()
    rows = []
    for name, cls in load_providers().items():
        missing = cls.missing_clients()
        rows.append(
            {
                "name": name,
                "panel": cls.panel(),
                "description": cls.description,
                "section": cls.section_name(),
                "scope": cls.scope_kind,
                "config_keys": list(cls.config_keys) if cls.config_keys is not None else None,
                "options": [flag for opt in cls.options for flag in opt.flags],
                "scanners": [n for n in names if provider_of(n) == name],
                "client_modules": list(cls.client_modules),
                "extra": cls.extra,
                "installed": not missing,
                "missing": missing,
                "install": f"pip install 'aifinops[{cls.extra}]'" if missing and cls.extra else None,
                "module": cls.__module__,
            }
        )
    return rows


def _client_cell(row: dict[str, Any]) -> str:
    if not row["client_modules"]:
        return "base install"
    if row["installed"]:
        return f"installed ([{row['extra']}])" if row["extra"] else "installed"
    return f"missing {', '.join(row['missing'])}: {row['install'] or 'not installable as an extra'}"


@app.command("list")
def list_scanners(
    ctx: typer.Context,
    output_format: FormatOption = SummaryFormat.TABLE,
) -> None:
    """List every registered provider and scanner (entry-point groups `aifinops.providers`,
    `aifinops.scanners`); json: {"providers": [...], "scanners": [...]}."""
    try:
        found = load_scanners()
        providers = provider_rows()
    except PluginLoadError as exc:
        fail(str(exc))
    rows = [
        {
            "name": c.name,
            "provider": c.provider,
            "kinds": list(c.kinds),
            "description": c.description,
            "module": c.__module__,
        }
        for c in found.values()
    ]
    if output_format is SummaryFormat.JSON:
        typer.echo(json.dumps({"providers": providers, "scanners": rows}, indent=2))
        return
    pvalues = [
        [
            p["name"],
            p["panel"],
            f"{p['section']}:",
            p["scope"],
            ", ".join(p["scanners"]),
            _client_cell(p),
            p["description"],
        ]
        for p in providers
    ]
    svalues = [[r["name"], r["provider"], ", ".join(r["kinds"]), r["description"]] for r in rows]
    if output_format is SummaryFormat.MARKDOWN:
        pheads = [
            "Name",
            "Help panel",
            "Config section",
            "Scope",
            "Scanners",
            "Client library",
            "Description",
        ]
        typer.echo(
            "\n".join(
                [
                    f"# {len(providers)} providers (entry points: {PROVIDER_GROUP})",
                    "",
                    *md_table(pheads, pvalues),
                    "",
                    f"# {len(rows)} scanners (entry points: {GROUP})",
                    "",
                    *md_table(["Name", "Provider", "Observes", "Description"], svalues),
                ]
            )
        )
        return
    console = stdout_console(global_options(ctx))
    # too wide for the terminal: the client library, help panel and config section columns go
    pcols = [
        Column("Name"),
        Column("Help panel", drop=3),
        Column("Config section", drop=2),
        Column("Scope"),
        Column("Scanners"),
        Column("Client library", drop=4),
        Column("Description"),
    ]
    prows = [[Text(plain(v)) for v in row] for row in pvalues]
    title = f"{len(providers)} providers (entry points: {PROVIDER_GROUP})"
    ptable = fit_table(pcols, prows, console.width, title=title)
    console.print(ptable)
    gone = left_out(pcols, prows, ptable, " (see --format json)")
    if gone is not None:
        console.print(gone)
    scols = [Column("Name"), Column("Provider", drop=1), Column("Observes"), Column("Description")]
    srows = [[Text(plain(v)) for v in row] for row in svalues]
    console.print(
        fit_table(scols, srows, console.width, title=f"{len(rows)} scanners (entry points: {GROUP})")
    )
