"""`aifinops rules`: list, show, validate and print the schema of YAML rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from aifinops_cli.cli.common import (
    FormatOption,
    SummaryFormat,
    fail,
    global_options,
    stderr_console,
    stdout_console,
)
from aifinops_cli.core import registry
from aifinops_cli.core.config import find_config_file, load_config
from aifinops_cli.core.pipeline import check_rules_against_scanners
from aifinops_cli.core.registry import PluginLoadError
from aifinops_cli.core.rules import (
    Rule,
    load_rules,
    rule_schema_json,
)
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.output.markdown import table as md_table
from aifinops_cli.output.safe import markup, plain
from aifinops_cli.output.table import Column, fit_table, left_out

app = typer.Typer(
    help="List, validate and explain the rules that turn observations into findings.", no_args_is_help=True
)

RulesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules", "-r", help="Extra rules file or directory (a rule with a default's id replaces it)."
    ),
]


def provider_rule_paths() -> list[Path]:
    """The installed providers' own rules files (Provider.rule_paths), loaded after the bundled
    ones and before `--rules`, as a scan loads them."""
    try:
        return registry.provider_rule_paths()
    except PluginLoadError as exc:
        fail(str(exc))


def _load(ctx: typer.Context, extra: list[Path] | None) -> list[Rule]:
    opts = global_options(ctx)
    try:
        config = load_config(find_config_file(opts.config))
        return load_rules([*provider_rule_paths(), *(extra or [])], config)
    except SourceError as exc:
        fail(str(exc))


def print_warnings(ctx: typer.Context, warnings: list[str]) -> None:
    opts = global_options(ctx)
    if not opts.quiet:
        err = stderr_console(opts)
        for note in warnings:
            err.print(f"[yellow]warning:[/] {markup(note)}")


def _level(spec: object) -> str:
    return spec if isinstance(spec, str) else f"{spec['default']}+"  # type: ignore[index]


@app.command("list")
def list_rules(
    ctx: typer.Context,
    rules: RulesOpt = None,
    output_format: FormatOption = SummaryFormat.TABLE,
) -> None:
    """List the active rules with their categories, severities and parameters."""
    loaded = _load(ctx, rules)
    if output_format is SummaryFormat.JSON:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "title": r.title,
                        "category": r.category,
                        "resource": r.resource,
                        "severity": r.severity,
                        "confidence": r.confidence,
                        "params": r.params,
                        "enabled": r.enabled,
                        "origin": r.origin,
                    }
                    for r in loaded
                ],
                indent=2,
            )
        )
        return
    rows = []
    for r in loaded:
        params = ", ".join(f"{k}={v}" for k, v in r.params.items())
        rid = r.id if r.enabled else f"{r.id} (disabled)"
        rows.append([rid, r.category, _level(r.severity), ", ".join(r.resource), params])
    if output_format is SummaryFormat.MARKDOWN:
        heads = ["ID", "Category", "Severity", "Applies to", "Parameters"]
        typer.echo("\n".join([f"# {len(loaded)} rules", "", *md_table(heads, rows)]))
        return
    # too wide for the terminal: the parameters go first (`rules show ID` has them), then the kinds
    columns = [Column("ID"), Column("Category"), Column("Severity"), Column("Applies to", drop=2)]
    columns.append(Column("Parameters", drop=3))
    cells = [[Text(plain(v)) for v in row] for row in rows]
    console = stdout_console(global_options(ctx))
    table = fit_table(columns, cells, console.width, title=f"{len(loaded)} rules")
    console.print(table)
    gone = left_out(columns, cells, table, " (see `aifinops rules show ID` or --format json)")
    if gone is not None:
        console.print(gone)


@app.command("show")
def show(ctx: typer.Context, rule_id: str, rules: RulesOpt = None) -> None:
    """Show one rule: what it looks for, its thresholds and its recommendation."""
    for r in _load(ctx, rules):
        if r.id == rule_id:
            typer.echo(
                f"{r.id}: {r.title}\ncategory: {r.category}\napplies to: "
                f"{', '.join(r.resource)}\nseverity: {json.dumps(r.severity)}\n"
                f"params: {json.dumps(r.params)}\ndefined at: {r.origin}\n\n"
                f"{r.description}\n\nRecommendation: {r.recommendation}"
            )
            return
    fail(f"no rule with id {rule_id!r}: see `aifinops rules list`")


@app.command("validate")
def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Rules files or directories to check (default: the bundled rules and every installed "
            "provider's own rules files, as a scan loads them)."
        ),
    ] = None,
) -> None:
    """Check rules files: the schema, their parameters, what the installed scanners emit.

    Each rule's kinds and fields must come from an installed scanner; exit 2 on the first error."""
    try:
        if paths:
            loaded = load_rules(paths, include_defaults=False)
            where = ", ".join(str(p) for p in paths)
        else:
            own = provider_rule_paths()
            loaded = load_rules(own)
            where = "the bundled rules" + "".join(f", {p}" for p in own)
    except SourceError as exc:
        fail(str(exc))
    try:
        warnings = check_rules_against_scanners(loaded)
    except SourceError as exc:
        fail(str(exc))
    print_warnings(ctx, warnings)
    note = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})" if warnings else ""
    typer.echo(f"ok: {len(loaded)} rules valid in {where}{note}")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of one rule (for editors and pre-commit checks)."""
    typer.echo(rule_schema_json())
