"""`aifinops forecast`: month-end and next-month spend from billing exports, with backtested error."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from aifinops_cli.cli.common import fail, global_options, stdout_console
from aifinops_cli.core.config import find_config_file, load_config
from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.scanners.billing.forecast import MAX_MAPE_PCT, forecast_groups
from aifinops_cli.scanners.billing.scanner import read_billing
from aifinops_cli.scanners.interface import ScannerError

BY_CHOICES = ("owner-service", "owner", "service")


def forecast(
    ctx: typer.Context,
    billing: Annotated[list[str], typer.Option(
        "--billing", help="Billing exports: FOCUS, CUR, GCP export; files, dirs, globs, s3://, "
        "athena://db.table, bigquery://project.dataset.table (repeatable).")],
    billing_format: Annotated[str | None, typer.Option(
        "--billing-format", help="Force the billing format: focus, cur, cur2, gcp.")] = None,
    by: Annotated[str, typer.Option(
        "--by", help="Group by owner-service, owner or service.")] = "owner-service",
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    max_error: Annotated[float, typer.Option(
        "--max-error", help="Backtest MAPE (%) above which a forecast is marked unreliable.")] = MAX_MAPE_PCT,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows in the table (json has all).")] = 25,
) -> None:
    """Forecast month-end and next-month spend per owner and service, with its measured error."""
    opts = global_options(ctx)
    if output_format not in ("table", "json"):
        fail("--format must be table or json")
    if by not in BY_CHOICES:
        fail(f"--by must be one of {', '.join(BY_CHOICES)}")
    try:
        config = load_config(find_config_file(opts.config))
        read = read_billing(billing, config, fmt_override=billing_format)
    except (SourceError, ScannerError) as exc:
        fail(str(exc))
    daily = [row for facts in read.facts for row in facts.daily]
    currencies = sorted({f.currency for f in read.facts})
    results = forecast_groups(daily, by=by, max_mape_pct=max_error)
    problems = [c for c in read.coverage if c.status != "ok"]
    if output_format == "json":
        doc = {"currency": currencies[0] if len(currencies) == 1 else currencies, "by": by,
               "method": "mean daily spend of the last 14 days carried forward; error = MAPE of the "
                         "same model replayed on earlier months (or the last 4 weeks)",
               "sources": [{"source": c.scope, "status": c.status, "message": c.message}
                           for c in read.coverage],
               "forecasts": [f.to_dict() for f in results]}
        typer.echo(json.dumps(doc, indent=2))
    else:
        console = stdout_console(opts)
        cur = currencies[0] if len(currencies) == 1 else "mixed currencies"
        as_of = results[0].as_of.isoformat() if results else "-"
        t = Table(title=f"Spend forecast ({cur}), data to {as_of}", title_justify="left")
        for col, just in (("Owner", "left"), ("Service", "left"), ("Month to date", "right"),
                          ("Month end", "right"), ("Next month", "right"), ("Error (MAPE)", "right"),
                          ("", "left")):
            t.add_column(col, justify=just, overflow="fold")
        money = lambda x: "-" if x is None else f"{x:,.2f}"  # noqa: E731
        for f in results[: top + 1]:
            err = "-" if f.mape_pct is None else f"±{f.mape_pct:.1f}% ({len(f.backtests)} tests)"
            note = f.reason if f.status != "ok" else ""
            t.add_row(f.owner, f.service, money(f.month_to_date), money(f.month_end),
                      money(f.next_month), err, f"{f.status}{': ' + note if note else ''}")
        console.print(t)
        for c in problems:
            console.print(f"[yellow]warning:[/] {c.scope}: {c.message}")
    if not read.facts:
        raise typer.Exit(int(ExitCode.SCAN_FAILED))
