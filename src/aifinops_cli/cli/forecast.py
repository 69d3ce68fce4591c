"""`aifinops forecast`: month-end and next-month spend with a backtested P10-P90 interval, and
spend anomalies, from billing exports (`--billing`) or LLM request logs (`--llm-logs`)."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from aifinops_cli.cli.common import FormatOption, SummaryFormat, fail, global_options, stdout_console
from aifinops_cli.core.config import find_config_file, load_config
from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.core.models import CoverageEntry, Finding
from aifinops_cli.core.plugin import ScannerError
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.forecasting import anomaly
from aifinops_cli.forecasting.charges import USAGE, DailyCharge
from aifinops_cli.forecasting.model import ForecastUnavailable
from aifinops_cli.forecasting.plan import MAX_ERROR_PCT, GroupForecast, forecast_groups
from aifinops_cli.output.markdown import table as md_table
from aifinops_cli.output.safe import md_text, plain
from aifinops_cli.output.table import Column, fit_table, left_out
from aifinops_cli.scanners.billing.series import read_daily

BY_CHOICES = ("owner-service", "owner", "service")
METHOD = (
    "statsmodels ETS (additive error, damped trend, weekly season) per series; recurring charges "
    "projected by cadence, one-time charges not carried forward; error = mean absolute % error of "
    "rolling-origin backtests at the same horizon (month end: of the rest of the month); P10-P90 = "
    "the model's interval of the total, widened to hold every backtest"
)
BLIND_SPOTS = (
    "AWS Cost Anomaly Detection would not see: LLM API spend paid outside AWS (OpenAI, "
    "Anthropic, other vendors' invoices) nor spend shifting from one vendor to another"
)


def forecast(
    ctx: typer.Context,
    billing: Annotated[
        list[str] | None,
        typer.Option(
            "--billing",
            help="Billing exports: FOCUS, CUR, GCP export; files, dirs, globs, s3:// (repeatable).",
        ),
    ] = None,
    llm_logs: Annotated[
        list[str] | None,
        typer.Option(
            "--llm-logs", help="LLM request logs (files, dirs, globs, .gz, s3://): spend by team and model."
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Forecast a built-in 137-day FOCUS export.")] = False,
    billing_format: Annotated[
        str | None, typer.Option("--billing-format", help="Force the billing format: focus, cur, cur2, gcp.")
    ] = None,
    llm_log_format: Annotated[
        str | None, typer.Option("--llm-log-format", help="Force the LLM log format instead of detecting it.")
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="Group by owner-service, owner or service (LLM: team and model).")
    ] = "owner-service",
    output_format: FormatOption = SummaryFormat.TABLE,
    max_error: Annotated[
        float,
        typer.Option("--max-error", help="Backtest error (%) above which a forecast is marked unreliable."),
    ] = MAX_ERROR_PCT,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows in the table (json has all).")] = 25,
    anomalies: Annotated[
        bool,
        typer.Option(
            "--anomalies/--no-anomalies", help="Also look for spend anomalies (rules/anomaly.yaml)."
        ),
    ] = True,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Forecast from the data up to this day (YYYY-MM-DD), e.g. to leave out a "
            "last day the export has not finished billing.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a rule parameter: RULE_ID.PARAM=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Forecast month-end and next-month spend per owner and service, with its measured error."""
    opts = global_options(ctx)
    cut = None
    if as_of is not None:
        try:
            cut = date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of must be a date, YYYY-MM-DD (got {as_of!r})")
    if by not in BY_CHOICES:
        fail(f"--by must be one of {', '.join(BY_CHOICES)}")
    if not (billing or llm_logs or demo):
        fail("nothing to forecast: pass --billing PATH, --llm-logs PATH or --demo")
    try:
        config = load_config(find_config_file(opts.config), list(set_ or []))
        rules = load_rules(config=config)
    except SourceError as exc:
        fail(str(exc))
    coverage: list[CoverageEntry] = []
    rows: list[DailyCharge] = []
    found: list[anomaly.Anomaly] = []
    source, currency = "", "USD"
    try:
        with tempfile.TemporaryDirectory(prefix="aifinops-forecast-") as tmp:
            paths = list(billing or [])
            if demo:
                from aifinops_cli.demo.forecast import write

                paths.append(str(write(Path(tmp))))
            if paths:
                read = read_daily(paths, config, fmt_override=billing_format)
                coverage += read.coverage
                rows += read.rows
                currency = read.currency
                source = ", ".join(paths) if not demo else "built-in demo FOCUS export"
                if read.other_currencies:
                    left = ", ".join(f"{c} {v:,.2f}" for c, v in sorted(read.other_currencies.items()))
                    coverage.append(
                        CoverageEntry(
                            "forecast", "currencies", "partial", f"figures in {currency}; left out: {left}"
                        )
                    )
                if anomalies and read.rows:
                    upto = [r for r in read.rows if cut is None or r.day <= cut]
                    found += anomaly.billing_anomalies(upto, anomaly.settings("billing", rules))
            if llm_logs:
                from aifinops_cli.scanners.llm.series import read_llm_spend

                llm = read_llm_spend(list(llm_logs), config, grain="hour", log_format=llm_log_format)
                coverage += llm.coverage
                if llm.unpriced_requests:
                    n = llm.unpriced_requests
                    coverage.append(
                        CoverageEntry(
                            "llm", "prices", "partial", f"{n} request(s) without a price left out", errors=n
                        )
                    )
                rows += [DailyCharge(r.at.date(), r.team, r.model, USAGE, r.cost) for r in llm.rows]
                source = ", ".join(filter(None, [source, *llm_logs]))
                if anomalies and llm.rows:
                    hours = [r for r in llm.rows if cut is None or r.at.date() <= cut]
                    found += anomaly.llm_anomalies(hours, anomaly.settings("llm", rules))
            if cut is not None:
                rows = [r for r in rows if r.day <= cut]
            results = forecast_groups(rows, by=by, as_of=cut, max_error_pct=max_error)
    except ForecastUnavailable as exc:
        fail(str(exc))
    except (SourceError, ScannerError, ValueError) as exc:
        fail(str(exc))
    if not rows:
        why = "; ".join(f"{c.scope}: {c.message}" for c in coverage if c.status != "ok")
        fail(f"no spend could be read ({why or 'the inputs hold no dated costs'})", ExitCode.SCAN_FAILED)
    llm_provider = {"team", "app", "model"}
    observations = [
        anomaly.observation(a, "llm" if a.dimension in llm_provider else "billing", source, currency)
        for a in found
    ]
    findings = evaluate(rules, observations)
    if output_format is SummaryFormat.JSON:
        typer.echo(json.dumps(_doc(results, findings, coverage, currency, by), indent=2))
    else:
        _print(opts, results, findings, coverage, currency, top, output_format is SummaryFormat.MARKDOWN)


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "category": f.category,
        "severity": str(f.severity),
        "title": f.title,
        "id": f.observation.id,
        "fingerprint": f.fingerprint,
        "dollars_above_expected": f.monthly_cost_usd,
        "evidence": f.evidence,
        "recommendation": f.recommendation,
    }


def _doc(
    results: list[GroupForecast],
    findings: list[Finding],
    coverage: list[CoverageEntry],
    currency: str,
    by: str,
) -> dict[str, Any]:
    return {
        "currency": currency,
        "by": by,
        "method": METHOD,
        "sources": [{"source": c.scope, "status": c.status, "message": c.message} for c in coverage],
        "forecasts": [g.to_dict() for g in results],
        "anomalies": [_finding_dict(f) for f in findings],
        "anomaly_blind_spots": BLIND_SPOTS,
    }


def _print(
    opts: Any,
    results: list[GroupForecast],
    findings: list[Finding],
    coverage: list[CoverageEntry],
    currency: str,
    top: int,
    markdown: bool = False,
) -> None:
    console = stdout_console(opts)
    money = lambda x: "-" if x is None else f"{x:,.2f}"  # noqa: E731
    as_of = results[0].as_of if results else None
    title = f"Spend forecast ({currency}), data to {as_of.isoformat() if as_of else '-'}"
    if as_of:
        end = as_of.replace(day=28) + timedelta(days=4)
        last = end.replace(day=1) - timedelta(days=1)
        title += f"; month end = {as_of:%b} {last:%d}, next month = {end:%B}"
    # too wide for the terminal: the notes go first, then the backtest error, then month to date
    columns = (
        Column("Owner"),
        Column("Service"),
        Column("Month to date", "right", drop=3),
        Column("Month end (P10-P90)", "right"),
        Column("Next month (P10-P90)", "right"),
        Column("Backtest error", "right", drop=2),
        Column("Note", drop=1),
    )

    def cell(r: Any) -> str:
        if r is None:
            return "-"
        fmt = ",.0f" if abs(r.hi) >= 1000 else ",.2f"
        return f"{r.point:{fmt}} ({r.lo:{fmt}}-{r.hi:{fmt}})"

    rows: list[list[str]] = []
    for g in results[: top + 1]:
        nm = g.next_month
        err = "-" if nm is None or nm.mape_pct is None else f"±{nm.mape_pct:.1f}% ({len(nm.backtests)} tests)"
        note = g.status + (f": {g.reason}" if g.reason else "")
        if g.recurring_next_month:
            note += f"; recurring {money(g.recurring_next_month)} next month"
        rows.append([g.owner, g.service, money(g.month_to_date), cell(g.month_end), cell(nm), err, note])
    anomaly_columns = (
        Column("What"),
        Column("Started"),
        Column("Spent", "right", drop=2),
        Column("Expected", "right", drop=1),
        Column("Above expected", "right"),
        Column("Still going on"),
    )
    anomaly_rows: list[list[str]] = []
    for f in findings:
        ev = f.evidence
        anomaly_rows.append(
            [
                f.observation.name,
                f"{ev.get('started')}, {int(ev.get('periods', 0))} {ev.get('unit')}(s)",
                money(ev.get("actual_usd")),
                money(ev.get("expected_usd")),
                money(f.monthly_cost_usd),
                "yes" if ev.get("ongoing") else f"no (ended {ev.get('last')})",
            ]
        )
    warnings = [f"{c.scope}: {c.message}" for c in coverage if c.status != "ok"]
    anomalies_title = "Spend anomalies (category anomaly)"
    if markdown:
        out = [f"# {md_text(title)}", "", *md_table([c.header for c in columns], rows), ""]
        if anomaly_rows:
            out += [
                f"## {anomalies_title}",
                "",
                *md_table([c.header for c in anomaly_columns], anomaly_rows),
                "",
            ]
            out += [f"{md_text(BLIND_SPOTS)}.", ""]
        out += [f"- warning: {md_text(w)}" for w in warnings]
        console.file.write("\n".join(out).rstrip("\n") + "\n")
        return
    cells = [[Text(plain(v)) for v in r] for r in rows]
    table = fit_table(columns, cells, console.width, title=Text(title), title_justify="left")
    console.print(table)
    gone = left_out(columns, rows, table, " (see --format markdown or json)")
    if gone is not None:
        console.print(gone)
    if anomaly_rows:
        cells = [[Text(plain(v)) for v in r] for r in anomaly_rows]
        console.print(
            fit_table(anomaly_columns, cells, console.width, title=anomalies_title, title_justify="left")
        )
        console.print(f"[dim]{BLIND_SPOTS}.[/]")
    for w in warnings:
        console.print(Text.assemble(("warning:", "yellow"), " ", plain(w)))
