"""`aifinops scan`: run scanners, score with rules, render reports, exit with a CI-stable code."""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifinops_cli.cli.common import (
    GlobalOptions,
    fail,
    global_options,
    stderr_console,
    stdout_console,
    write_atomic,
)
from aifinops_cli.cli.unattended import UnattendedRun
from aifinops_cli.core.baseline import apply_baseline, load_fingerprints
from aifinops_cli.core.config import Config, find_config_file, load_config
from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.core.models import Report, Severity
from aifinops_cli.core.rules import Rule, load_rules
from aifinops_cli.core.runner import run_scan
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.output.interface import Formatter, formatters
from aifinops_cli.pricing.catalog import PriceCatalog, load_catalog
from aifinops_cli.scanners.interface import Limits, ScanContext, Scanner, ScanOptions
from aifinops_cli.scanners.registry import PluginLoadError, for_providers, load_scanners

REPORT_STEM = "aifinops-report"
PROVIDER_INPUTS = ("aws", "gcp", "k8s")


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def select_scanners(options: ScanOptions, names: list[str]) -> list[type[Scanner]]:
    """Named scanners, or every scanner that applies to the inputs given (AWS when none are).

    Only the scanners that may run are imported (see scanners/registry.py).
    """
    try:
        if names:
            wanted = set(names)
            registry = load_scanners(lambda ep_name: ep_name in wanted)
            if not wanted <= set(registry):  # a plugin's class may be named apart from its entry
                registry = load_scanners()
            unknown = [n for n in names if n not in registry]
            if unknown:
                fail(f"unknown scanner(s) {', '.join(unknown)}; known: {', '.join(registry)} "
                     "(see `aifinops scanners list`)")
            return [registry[n] for n in names]
        if options.gcp_projects and "gcp" not in options.providers:
            options.providers.append("gcp")
        if options.kube_contexts and "k8s" not in options.providers:
            options.providers.append("k8s")
        if not (options.providers or options.llm_logs or options.billing):
            options.providers.append("aws")
        registry = load_scanners(for_providers(options.in_play()))
    except PluginLoadError as exc:
        fail(str(exc))
    chosen = [cls for cls in registry.values() if cls.applies(options)]
    if not chosen:
        fail("no scanner applies to these inputs: name one with --scanner, a --provider, "
             "--llm-logs or --billing")
    return chosen


def _formats(requested: list[str]) -> list[Formatter]:
    available = formatters()
    names = _split(requested) or ["table"]
    unknown = [n for n in names if n not in available]
    if unknown:
        fail(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    return [available[n]() for n in dict.fromkeys(names)]


def _prepare(opts: GlobalOptions, sets: list[str], rules_paths: list[Path]
             ) -> tuple[Config, list[Rule], PriceCatalog]:
    try:
        config = load_config(find_config_file(opts.config), sets)
        rules = load_rules(rules_paths, config)
        pricing = config.pricing
        discount = pricing.get("discount_pct", {})
        if isinstance(discount, int | float):
            discount = {"*": float(discount)}
        prices = load_catalog(
            [Path(p) for p in pricing.get("catalogs", [])],
            list(pricing.get("overrides", [])),
            dict(discount),
        )
    except SourceError as exc:
        fail(str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"invalid pricing section in config: {exc}")
    return config, rules, prices


def emit(report: Report, formats: list[Formatter], output: Path | None, output_dir: Path | None,
         opts: GlobalOptions, timestamped: bool = False) -> list[Path]:
    """Write each format to its destination; at most one goes to stdout."""
    if output is not None and len(formats) > 1:
        fail("--output takes one format; use --output-dir for several")
    if output is None and output_dir is None and len(formats) > 1:
        fail("several formats need --output-dir (or one --format at a time)")
    written: list[Path] = []
    stamp = datetime.now(UTC).strftime("-%Y%m%dT%H%M%SZ") if timestamped else ""
    for fmt in formats:
        if output is not None:
            target: Path | None = output
        elif output_dir is not None:
            target = output_dir / f"{REPORT_STEM}{stamp}.{fmt.extension}"
        else:
            target = None
        if target is None:
            fmt.print_to(report, stdout_console(opts))
            sys.stdout.flush()
        else:
            try:
                write_atomic(target, fmt.render(report))
            except OSError as exc:
                fail(f"cannot write {target}: {exc.strerror}")
            written.append(target)
    return written


def exit_code(report: Report, fail_on: Severity | None, internal_errors: int) -> ExitCode:
    if internal_errors:
        return ExitCode.INTERNAL
    if fail_on is not None and any(
        f.status == "new" and f.severity.rank >= fail_on.rank for f in report.active_findings
    ):
        return ExitCode.FINDINGS
    if report.nothing_scanned:
        return ExitCode.SCAN_FAILED
    return ExitCode.OK


def scan(
    ctx: typer.Context,
    demo: Annotated[bool, typer.Option("--demo", help="Scan the built-in example AI estate "
                                       "(no credentials, nothing leaves this machine).")] = False,
    provider: Annotated[list[str] | None, typer.Option(
        "--provider", "-p", help="Cloud providers to scan: aws, gcp, k8s (repeatable). "
        "Default: aws, unless other inputs are given.")] = None,
    scanner: Annotated[list[str] | None, typer.Option(
        "--scanner", "-s", help="Run exactly these scanners (see `aifinops scanners list`).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.",
                                                envvar="AWS_PROFILE")] = None,
    regions: Annotated[list[str] | None, typer.Option(
        "--regions", help="AWS regions, comma-separated (default: all enabled).")] = None,
    gcp_project: Annotated[list[str] | None, typer.Option(
        "--gcp-project", help="Google Cloud project (repeatable).")] = None,
    kube_context: Annotated[list[str] | None, typer.Option(
        "--kube-context", help="kubeconfig context (repeatable).")] = None,
    prometheus_url: Annotated[str | None, typer.Option(
        "--prometheus-url", help="Prometheus with DCGM exporter metrics.")] = None,
    llm_logs: Annotated[list[str] | None, typer.Option(
        "--llm-logs", help="LLM request logs: files, dirs, globs, .gz, s3:// (repeatable).")] = None,
    llm_log_format: Annotated[str | None, typer.Option(
        "--llm-log-format", help="Force the LLM log format instead of detecting it.")] = None,
    billing: Annotated[list[str] | None, typer.Option(
        "--billing", help="Billing exports: FOCUS, CUR, GCP export; files, dirs, globs, s3://, "
        "athena://db.table, bigquery://project.dataset.table (repeatable).")] = None,
    billing_format: Annotated[str | None, typer.Option(
        "--billing-format", help="Force the billing format instead of detecting it.")] = None,
    show_prompts: Annotated[bool, typer.Option(
        "--show-prompts", help="Include prompt text in reports (off: hashes only).")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Malformed input records are fatal instead of counted.")] = False,
    lookback_days: Annotated[int | None, typer.Option(
        "--lookback-days", min=1, max=63, help="Utilisation window in days (default 14).")] = None,
    rules: Annotated[list[Path] | None, typer.Option(
        "--rules", "-r", help="Extra rules file or directory (same id replaces a default).")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a rule parameter: RULE_ID.PARAM=VALUE (repeatable).")] = None,
    output_format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="table, json, markdown, csv (repeatable or comma-separated).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", help="Write every format here as aifinops-report.<ext>.")] = None,
    fail_on: Annotated[Severity | None, typer.Option(
        "--fail-on", help="Exit 1 if a new finding at or above this severity exists.",
        case_sensitive=False)] = None,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="A previous JSON report: its findings are known, not new.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Concurrent regions/projects per scanner.")] = 8,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", metavar="SECONDS", help="Scan deadline: scopes still running then are "
        "reported as timed out, not waited for (default: config scan.timeout, else 900; "
        "0: none).")] = None,
    suppressions: Annotated[list[Path] | None, typer.Option(
        "--suppressions", help="Suppression file: known exceptions by rule, resource, tag or "
        "owner, each with a reason and optional expiry (repeatable; config `suppressions:`).")] = None,
    record: Annotated[bool | None, typer.Option(
        "--record/--no-record", help="Record this run in the history store, compare it with the "
        "previous one (default: off, or config history.record).")] = None,
    state_dir: Annotated[Path | None, typer.Option(
        "--state-dir", envvar="AIFINOPS_STATE_DIR", help="History and lock directory (default: "
        "config history.path, else $XDG_STATE_HOME/aifinops or ~/.local/state/aifinops).")] = None,
    lock: Annotated[bool | None, typer.Option(
        "--lock/--no-lock", help="Refuse to start while another run holds the lock in the state "
        "dir (exit 5). Default: on when recording.")] = None,
    log_file: Annotated[Path | None, typer.Option(
        "--log-file", help="Append a log of the run (start, lock, files written, totals) here.")] = None,
    timestamped: Annotated[bool, typer.Option(
        "--timestamped", help="Name files aifinops-report-YYYYMMDDTHHMMSSZ.<ext> in --output-dir.")
    ] = False,
) -> None:
    """Scan for AI waste and print or write the fragmentation-tax report."""
    opts = global_options(ctx)
    formats = _formats(output_format or [])
    sets = list(set_ or [])
    if lookback_days is not None:
        sets.append(f"lookback_days={lookback_days}")
    config, rule_list, prices = _prepare(opts, sets, list(rules or []))
    known = None
    if baseline is not None:
        try:
            known = load_fingerprints(baseline)
        except SourceError as exc:
            fail(str(exc))
    options = ScanOptions(
        providers=[p.lower() for p in _split(provider)],
        aws_profile=profile,
        aws_regions=_split(regions),
        gcp_projects=_split(gcp_project),
        kube_contexts=_split(kube_context),
        prometheus_url=prometheus_url,
        llm_logs=list(llm_logs or []),
        llm_log_format=llm_log_format,
        billing=list(billing or []),
        billing_format=billing_format,
        show_prompts=show_prompts,
        strict=strict,
        lookback_days=config.lookback_days,
        max_workers=workers,
    )
    try:
        options.limits = Limits.from_settings(config.section("scan"), timeout)
    except ValueError as exc:
        fail(str(exc))
    unattended = UnattendedRun.start(ctx, opts, config, state_dir=state_dir, record=record,
                                     lock=lock, suppressions=list(suppressions or []),
                                     log_path=log_file)
    bad = [p for p in options.providers if p not in PROVIDER_INPUTS]
    if bad:
        fail(f"unknown provider(s) {', '.join(bad)}; choose from {', '.join(PROVIDER_INPUTS)}")

    err = stderr_console(opts)
    show_progress = not opts.quiet and err.is_terminal

    stack = contextlib.ExitStack()
    with stack:
        if demo:
            from aifinops_cli.demo.estate import add_demo_inputs, demo_clusters, demo_estate

            options.aws_profile = None
            stack.enter_context(demo_estate(options))
            add_demo_inputs(options, config)
            stack.enter_context(demo_clusters(options))
        chosen = select_scanners(options, _split(scanner))
        status = stack.enter_context(err.status("scanning…")) if show_progress else None

        done = itertools.count(1)

        def progress(message: str) -> None:
            if status is not None:
                finished = f" ({next(done)} scopes done)" if message.endswith(" done") else ""
                status.update(f"{message}{finished}")
            logging.getLogger("aifinops").debug(message)

        context = ScanContext(options=options, config=config, prices=prices,
                              now=datetime.now(UTC), progress=progress)
        outcome = run_scan(context, chosen, rule_list)
    report = outcome.report
    if known is not None:
        apply_baseline(report.findings, known)
    unattended.finish(report, chosen)
    if opts.debug:
        for error in outcome.internal_errors:
            traceback.print_exception(error, file=sys.stderr)
    written = emit(report, formats, output, output_dir, opts, timestamped)
    if not opts.quiet:
        for path in written:
            err.print(f"wrote {path}")
        for entry in report.coverage:
            if entry.status in ("failed", "skipped"):
                err.print(f"[yellow]{'warning' if entry.status == 'failed' else 'skipped'}:[/] "
                          f"{entry.scanner} {escape(entry.scope)}: {escape(entry.message)}")
    code = int(exit_code(report, fail_on, len(outcome.internal_errors)))
    unattended.done(report, written, code)
    raise typer.Exit(code)
