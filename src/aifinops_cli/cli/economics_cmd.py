"""`aifinops economics`: cost per customer, feature, team and model, margins against revenue, and
pricing and hosting what-ifs, from LLM request logs (and billing exports for the shared
infrastructure). The same section is in `scan`'s report when an `economics:` config section or
`--revenue` is given; `prepare` and `extensions` are the scan command's two calls."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from aifinops_cli.cli.common import fail, global_options, stdout_console
from aifinops_cli.core.config import Config, find_config_file, load_config
from aifinops_cli.core.models import Finding, Report
from aifinops_cli.core.pipeline import Extension, RequestError, ScanRequest, run
from aifinops_cli.core.pipeline import prepare as prepare_scan
from aifinops_cli.core.plugin import ScanOptions
from aifinops_cli.core.registry import PluginLoadError, load_providers
from aifinops_cli.core.rules import Rule, load_rules
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.economics import EconomicsError, EconomicsSettings, parse, section_findings
from aifinops_cli.output.markdown import economics_markdown
from aifinops_cli.output.table import print_economics
from aifinops_cli.pricing.catalog import catalog_from_config

FORMATS = ("table", "json", "markdown", "csv")  # csv: the rows of `scan --format economics-csv`


def prepare(config: Config, flags: dict[str, Any] | None = None) -> EconomicsSettings | None:
    """The `economics:` section with the flags over it, checked (exit 2) before any scan work; it
    is written back so the LLM scanner knows to hand over its usage. None: not asked for."""
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    section = config.section("economics")
    if not section and not given:
        return None
    try:
        settings = parse(section, given)
        meter = settings.openmeter[0] if settings.openmeter else None
        for path in (
            settings.revenue,
            settings.stripe_invoices,
            settings.lago_invoices,
            meter,
            settings.outcomes_file,
        ):
            if path and not Path(path).is_file():
                raise EconomicsError(f"{path}: no such file")
    except EconomicsError as exc:
        where = config.where("economics") if section else "economics"
        fail(f"{where}: {exc}" if section and config.source != "defaults" else str(exc))
    config.sections["economics"] = {**section, **given}
    return settings


def extensions(settings: EconomicsSettings | None) -> list[Extension]:
    """The pipeline extension that adds the section and its findings (none when not asked for),
    before baseline and suppressions."""
    if settings is None:
        return []
    chosen = settings

    def add(report: Report, rules: list[Rule]) -> list[Finding]:
        return section_findings(report, chosen, rules)

    return [add]


def economics(
    ctx: typer.Context,
    llm_logs: Annotated[
        list[str] | None,
        typer.Option("--llm-logs", help="LLM request logs (files, dirs, globs, .gz, s3://), repeatable."),
    ] = None,
    llm_log_format: Annotated[
        str | None, typer.Option("--llm-log-format", help="Force the LLM log format instead of detecting it.")
    ] = None,
    billing: Annotated[
        list[str] | None,
        typer.Option("--billing", help="Billing exports for the shared infrastructure (FOCUS, CUR, GCP)."),
    ] = None,
    revenue: Annotated[
        str | None,
        typer.Option("--revenue", help="Plans CSV: customer, plan, monthly_revenue, included_allowance."),
    ] = None,
    stripe_invoices: Annotated[
        str | None, typer.Option("--stripe-invoices", help="A Stripe Dashboard invoices export (CSV).")
    ] = None,
    lago_invoices: Annotated[
        str | None,
        typer.Option(
            "--lago-invoices", help="Lago invoice objects (GET /api/v1/invoices) as JSON, or a CSV."
        ),
    ] = None,
    outcomes: Annotated[
        str | None,
        typer.Option("--outcomes", help="Outcomes CSV (id,outcome): which sessions succeeded."),
    ] = None,
    margin_pct: Annotated[
        float | None, typer.Option("--margin-pct", help="Consumption what-if: cost x (1 + margin).")
    ] = None,
    price_per_outcome: Annotated[
        float | None, typer.Option("--price-per-outcome", help="Outcome what-if: USD per successful session.")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="The demo company's logs, plans and what-ifs.")
    ] = False,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a rule parameter: RULE_ID.PARAM=VALUE.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="table, json, markdown or csv.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Unit economics: cost per customer, feature and outcome, margins and pricing what-ifs."""
    opts = global_options(ctx)
    if output_format not in FORMATS:
        fail(f"unknown --format {output_format!r}; choose from {', '.join(FORMATS)}")
    if not (llm_logs or demo):
        fail("nothing to analyse: pass --llm-logs PATH (and --revenue FILE), or --demo")
    try:
        config = load_config(find_config_file(opts.config), list(set_ or []))
        rules = load_rules(config=config)
        prices = catalog_from_config(config, [])
        providers = load_providers()
    except (SourceError, PluginLoadError) as exc:
        fail(str(exc))
    values: dict[str, dict[str, Any]] = {
        "llm": {"logs": list(llm_logs or []), "log_format": llm_log_format},
        "billing": {"paths": list(billing or [])},
    }
    options = ScanOptions(
        settings={
            n: cls.settings(values.get(n, {}), config.section(cls.section_name()))
            for n, cls in providers.items()
        }
    )
    flags = {
        "revenue": revenue,
        "stripe_invoices": stripe_invoices,
        "lago_invoices": lago_invoices,
        "outcomes": {"file": outcomes} if outcomes else None,
        "pricing": (
            {
                **(config.section("economics").get("pricing") or {}),
                **({"margin_pct": margin_pct} if margin_pct is not None else {}),
                **({"price_per_outcome": price_per_outcome} if price_per_outcome is not None else {}),
            }
            if margin_pct is not None or price_per_outcome is not None
            else None
        ),
    }
    with contextlib.ExitStack() as stack:
        if demo:
            from aifinops_cli.demo import add_demo_inputs

            add_demo_inputs(options, config)  # its logs, billing exports and economics section
        settings = prepare(config, flags)
        scanners = ["llm"] + (["billing"] if options.settings_for("billing").paths else [])
        request = ScanRequest(
            options=options,
            config=config,
            rules=rules,
            prices=prices,
            scanners=scanners,
            extensions=extensions(settings),
        )
        try:
            plan = prepare_scan(request)
        except RequestError as exc:
            fail(str(exc))
        outcome = run(plan)
        stack.close()
    report = outcome.report
    for c in report.coverage:
        if c.status == "failed":
            typer.echo(f"warning: {c.scanner} {c.scope}: {c.message}", err=True)
    if report.economics is None:
        fail("no priced LLM usage was read from --llm-logs: nothing to analyse", why=None)
    section = report.economics
    findings = [f for f in report.findings if f.category == "unit-economics"]
    if output_format == "json":
        from aifinops_cli.core.report import finding_to_dict

        text = json.dumps(
            {"economics": section, "findings": [finding_to_dict(f) for f in findings]}, indent=2
        )
    elif output_format == "markdown":
        text = economics_markdown(section)
    elif output_format == "csv":
        from aifinops_cli.output.csv_format import EconomicsCsvFormatter

        text = EconomicsCsvFormatter().render(report).rstrip("\n")
    else:
        if output is None:
            print_economics(stdout_console(opts), section)
            return
        from io import StringIO

        from rich.console import Console

        buf = StringIO()
        print_economics(Console(file=buf, width=160, no_color=True), section)
        text = buf.getvalue()
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
