"""`aifinops scan`: run scanners, score with rules, render reports, exit with a CI-stable code."""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import logging
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aifinops_cli.cli import economics_cmd, notify
from aifinops_cli.cli.common import (
    STDOUT,
    GlobalOptions,
    OutputPathError,
    fail,
    global_options,
    report_target,
    stderr_console,
    stdout_console,
    write_report,
)
from aifinops_cli.cli.destinations import S3Destination
from aifinops_cli.cli.help import place_scan_options
from aifinops_cli.cli.rules_cmd import print_warnings
from aifinops_cli.cli.unattended import UnattendedRun
from aifinops_cli.core.baseline import load_fingerprints
from aifinops_cli.core.config import MAX_LOOKBACK_DAYS, Config, find_config_file, load_config
from aifinops_cli.core.exitcodes import ExitCode, meaning
from aifinops_cli.core.filters import SPLIT_KEYS, filtered, split_by_owner
from aifinops_cli.core.gate import Gate
from aifinops_cli.core.models import Report, Severity
from aifinops_cli.core.pipeline import RequestError, ScanRequest, prepare, run
from aifinops_cli.core.plugin import Limits, Provider, ProviderOption, ScanOptions
from aifinops_cli.core.registry import (
    PluginLoadError,
    load_providers,
    provider_catalog_paths,
    provider_rule_paths,
)
from aifinops_cli.core.rules import Rule, load_rules
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.output import formatters
from aifinops_cli.output.base import Formatter
from aifinops_cli.output.safe import markup, plain
from aifinops_cli.pricing.catalog import PriceCatalog, catalog_from_config

REPORT_STEM = "aifinops-report"
PROVIDER_VALUES = "aifinops.provider_values"  # ctx.meta key: {provider: {option key: value}}


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _formats(requested: list[str]) -> list[Formatter]:
    available = formatters()
    names = _split(requested) or ["table"]
    unknown = [n for n in names if n not in available]
    if unknown:
        fail(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    return [available[n]() for n in dict.fromkeys(names)]


def _prepare(
    opts: GlobalOptions, sets: list[str], rules_paths: list[Path]
) -> tuple[Config, list[Rule], PriceCatalog]:
    try:
        config = load_config(find_config_file(opts.config), sets)
    except SourceError as exc:
        fail(str(exc))
    try:
        own_rules, own_catalogs = provider_rule_paths(), provider_catalog_paths()
    except PluginLoadError as exc:
        fail(str(exc))
    try:  # a provider's own rules and catalog first: --rules and config catalogs replace them
        rules = load_rules([*own_rules, *rules_paths], config)
        prices = catalog_from_config(config, own_catalogs)
    except SourceError as exc:
        fail(str(exc))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        fail(f"{config.source}: invalid pricing section: {type(exc).__name__}: {exc}")
    return config, rules, prices


def plan_outputs(
    formats: list[Formatter], output: Path | None, output_dir: Path | None, timestamped: bool = False
) -> list[tuple[Formatter, Path | None]]:
    """Each format's destination (None: stdout), checked before any scan work: a bad
    combination or a destination that is not a regular file is exit 2 now, not after the scan."""
    if output is not None and output_dir is not None:
        fail(
            "--output and --output-dir are exclusive: --output names one file, --output-dir a "
            "directory for several formats"
        )
    if output is not None and len(formats) > 1:
        fail("--output takes one format; use --output-dir for several")
    if output is None and output_dir is None and len(formats) > 1:
        fail("several formats need --output-dir (or one --format at a time)")
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        fail(f"--output-dir {output_dir}: not a directory")
    stamp = datetime.now(UTC).strftime("-%Y%m%dT%H%M%SZ") if timestamped else ""
    planned: list[tuple[Formatter, Path | None]] = []
    for fmt in formats:
        if output is not None:
            target = None if str(output) == STDOUT else output
        elif output_dir is not None:
            target = output_dir / f"{REPORT_STEM}{stamp}.{fmt.extension}"
        else:
            target = None
        if target is not None:
            try:
                report_target(target)
            except OutputPathError as exc:
                fail(f"cannot write the report to {target}: {exc}")
        planned.append((fmt, target))
    return planned


def emit(report: Report, planned: list[tuple[Formatter, Path | None]], opts: GlobalOptions) -> list[Path]:
    """Write each format to its destination; at most one goes to stdout."""
    written: list[Path] = []
    for fmt, target in planned:
        if target is None:
            fmt.print_to(report, stdout_console(opts))
            sys.stdout.flush()
            continue
        after = "the scan finished, this report was not written"
        try:
            write_report(target, fmt, report)
        except OutputPathError as exc:
            fail(f"cannot write the report to {target}: {exc}", why=after)
        except OSError as exc:
            fail(f"cannot write {target}: {exc.strerror or exc}", why=after)
        written.append(target)
    return written


def exit_code(report: Report, fail_on: Severity | Gate | None, internal_errors: int) -> ExitCode:
    if internal_errors:
        return ExitCode.INTERNAL
    gate = fail_on if isinstance(fail_on, Gate) else Gate(fail_on)
    if gate.tripped(report):
        return ExitCode.FINDINGS
    if report.nothing_scanned:
        return ExitCode.SCAN_FAILED
    return ExitCode.OK


def scan(
    ctx: typer.Context,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Scan the built-in example AI estate (no credentials, nothing leaves this machine).",
        ),
    ] = False,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            "-p",
            help="Cloud providers to scan: aws, gcp, k8s (repeatable). "
            "Default: aws, unless other inputs are given.",
        ),
    ] = None,
    scanner: Annotated[
        list[str] | None,
        typer.Option("--scanner", "-s", help="Run exactly these scanners (see `aifinops scanners list`)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Malformed input records are fatal instead of counted.")
    ] = False,
    lookback_days: Annotated[
        int | None,
        typer.Option(
            "--lookback-days", min=1, max=MAX_LOOKBACK_DAYS, help="Utilisation window in days (default 14)."
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Extra rules file or directory (same id replaces a default)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a rule parameter: RULE_ID.PARAM=VALUE (repeatable)."),
    ] = None,
    output_format: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="Report formats (listed from the registry by cli/help.py)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the report to this regular file (replaced atomically; a "
            "symlink is followed), or - for stdout.",
        ),
    ] = None,
    output_dir: Annotated[
        str | None,
        typer.Option(
            "--output-dir",
            metavar="DIR",
            help="Write every format here as aifinops-report.<ext> (s3://bucket/prefix: uploaded "
            "with boto3).",
        ),
    ] = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 if a new finding at or above this severity exists.",
            case_sensitive=False,
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A previous JSON report: its findings are known, not new."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Concurrent regions/projects per scanner.")
    ] = 8,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Scan deadline: scopes still running then are "
            "reported as timed out, not waited for (default: config scan.timeout, else 900; "
            "0: none).",
        ),
    ] = None,
    suppressions: Annotated[
        list[Path] | None,
        typer.Option(
            "--suppressions",
            help="Suppression file: known exceptions by rule, resource, tag or "
            "owner, each with a reason and optional expiry (repeatable; config `suppressions:`).",
        ),
    ] = None,
    record: Annotated[
        bool | None,
        typer.Option(
            "--record/--no-record",
            help="Record this run in the history store, compare it with the "
            "previous one (default: off, or config history.record).",
        ),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            envvar="AIFINOPS_STATE_DIR",
            help="History and lock directory (default: "
            "config history.path, else $XDG_STATE_HOME/aifinops or ~/.local/state/aifinops).",
        ),
    ] = None,
    lock: Annotated[
        bool | None,
        typer.Option(
            "--lock/--no-lock",
            help="Refuse to start while another run holds the lock in the state "
            "dir (exit 5). Default: on when recording.",
        ),
    ] = None,
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="Append a log of the run (start, lock, files written, totals) here."),
    ] = None,
    timestamped: Annotated[
        bool,
        typer.Option(
            "--timestamped", help="Name files aifinops-report-YYYYMMDDTHHMMSSZ.<ext> in --output-dir."
        ),
    ] = False,
    # -- CI gate, alerts and outputs (README "In CI") --
    fail_on_cost: Annotated[
        float | None,
        typer.Option(
            "--fail-on-cost",
            metavar="USD",
            min=0,
            help="Exit 1 if the new findings' monthly savings add up to at least USD.",
        ),
    ] = None,
    notify_urls: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            metavar="URL",
            help="Alert new findings, budget breaches and anomalies to this apprise URL (slack://, "
            "msteams://, mailto://, json://...; repeatable; config notify.urls).",
        ),
    ] = None,
    notify_min_severity: Annotated[
        Severity | None,
        typer.Option(
            "--notify-min-severity", case_sensitive=False, help="Alert only at or above this severity."
        ),
    ] = None,
    notify_min_usd: Annotated[
        float | None,
        typer.Option(
            "--notify-min-usd", metavar="USD", min=0, help="Alert only findings worth this a month."
        ),
    ] = None,
    split_by: Annotated[
        str | None,
        typer.Option(
            "--split-by",
            metavar="owner",
            help="Also write one report per owner, in --output-dir/owners/<owner>/.",
        ),
    ] = None,
    min_severity: Annotated[
        Severity | None,
        typer.Option(
            "--min-severity", case_sensitive=False, help="Report (and gate on) only this severity and up."
        ),
    ] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option(
            "--owner",
            metavar="GLOB",
            help="Report (and gate on) only these owners (glob, repeatable; (unowned) for none).",
        ),
    ] = None,
    revenue: Annotated[
        str | None,
        typer.Option(
            "--revenue",
            help="Plans CSV (customer, plan, monthly_revenue, included_allowance): adds the unit-economics "
            "section (config `economics:`; see `aifinops economics`).",
        ),
    ] = None,
) -> None:
    """Scan for AI waste and print or write the fragmentation-tax report."""
    opts = global_options(ctx)
    formats = _formats(output_format or [])
    s3 = S3Destination.parse(output_dir)
    if output is not None and str(output).startswith("s3:"):
        fail("--output takes a local file; for S3 use --output-dir s3://bucket/prefix")
    if split_by is not None and split_by not in SPLIT_KEYS:
        fail(f"--split-by {split_by}: choose from {', '.join(SPLIT_KEYS)}")
    if split_by is not None and output_dir is None:
        fail("--split-by needs --output-dir (one report per owner, in owners/<owner>/)")
    local_dir = Path(output_dir) if output_dir is not None and s3 is None else None
    if s3 is not None:  # staged here, uploaded after the scan, removed when the command ends
        local_dir = Path(tempfile.mkdtemp(prefix="aifinops-s3-"))
        ctx.call_on_close(functools.partial(shutil.rmtree, local_dir, ignore_errors=True))
    planned = plan_outputs(formats, output, local_dir, timestamped)
    sets = list(set_ or [])
    if lookback_days is not None:
        sets.append(f"lookback_days={lookback_days}")
    config, rule_list, prices = _prepare(opts, sets, list(rules or []))
    alerts = notify.policy(config, _split(notify_urls), notify_min_severity, notify_min_usd)
    notify.check(alerts, opts.debug)
    known = None
    gate = Gate(fail_on, fail_on_cost)
    missing_baseline = (
        baseline if baseline is not None and not baseline.exists() and not baseline.is_symlink() else None
    )
    if missing_baseline is not None:  # a CI job's first run: every finding is new, and the fix
        known = set()
        if not opts.quiet:
            stderr_console(opts).print(f"[yellow]notice:[/] {markup(baseline_hint(missing_baseline))}")
    elif baseline is not None:
        try:
            known = load_fingerprints(baseline)
        except SourceError as exc:
            fail(str(exc))
    try:
        providers = load_providers()
    except PluginLoadError as exc:
        fail(str(exc))
    values: dict[str, dict[str, Any]] = ctx.meta.get(PROVIDER_VALUES, {})
    settings: dict[str, Any] = {}
    for name, cls in providers.items():  # each provider's flags over its config section
        try:
            settings[name] = cls.settings(values.get(name, {}), config.section(cls.section_name()))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            fail(
                f"{config.where(cls.section_name())}: config {cls.section_name()}: "
                f"{type(exc).__name__}: {exc}"
            )
    options = ScanOptions(
        providers=[p.lower() for p in _split(provider)],
        strict=strict,
        lookback_days=config.lookback_days,
        max_workers=workers,
        settings=settings,
    )
    try:
        options.limits = Limits.from_settings(config.section("scan"), timeout)
    except ValueError as exc:
        fail(str(exc))
    bad = [p for p in options.providers if p not in providers]
    if bad:
        fail(f"unknown provider(s) {', '.join(bad)}; choose from {', '.join(providers)}")
    unattended = UnattendedRun.start(
        ctx,
        opts,
        config,
        state_dir=state_dir,
        record=record,
        lock=lock,
        suppressions=list(suppressions or []),
        log_path=log_file,
    )

    err = stderr_console(opts)
    show_progress = not opts.quiet and err.is_terminal

    stack = contextlib.ExitStack()
    with stack:
        if demo:
            from aifinops_cli.demo import DemoUnavailable, demo_estate

            try:
                stack.enter_context(demo_estate(options, config))
            except DemoUnavailable as exc:
                fail(str(exc))
        done = itertools.count(1)
        status: Any = None  # the spinner, once the scan starts

        def progress(message: str) -> None:
            if status is not None:
                finished = f" ({next(done)} scopes done)" if message.endswith(" done") else ""
                status.update(f"{message}{finished}")
            logging.getLogger("aifinops").debug(message)

        request = ScanRequest(
            options=options,
            config=config,
            rules=rule_list,
            prices=prices,
            baseline=known,
            suppressions=unattended.entries,
            suppression_files=[str(p) for p in unattended.suppression_files],
            scanners=_split(scanner),
            progress=progress,
            today=unattended.today,
        )
        economics = economics_cmd.prepare(config, {"revenue": revenue})  # exit 2 before scanning
        request.extensions = economics_cmd.extensions(economics)
        try:
            plan = prepare(request)
        except RequestError as exc:
            fail(str(exc))
        print_warnings(ctx, plan.warnings)
        status = stack.enter_context(err.status("scanning…")) if show_progress else None
        outcome = run(plan)
    unattended.finish(outcome)  # the history records the whole scan; the filters shape the rest
    report = filtered(outcome.report, min_severity, _split(owner))
    gate.record(report)  # parameters.gate: JUnit fails the findings the exit code fails on
    if opts.debug:
        for error in outcome.internal_errors:
            traceback.print_exception(error, file=sys.stderr)
    if not opts.quiet:  # before the report, so a terminal ends on the report's headline
        for entry in report.coverage:
            if entry.status in ("failed", "skipped"):
                err.print(
                    f"[yellow]{'warning' if entry.status == 'failed' else 'skipped'}:[/] "
                    f"{markup(entry.scanner)} {markup(entry.scope)}: {markup(entry.message)}"
                )
    written: list[Path | str] = [*emit(report, planned, opts)]
    if split_by == "owner" and local_dir is not None:
        for name, part in split_by_owner(report).items():
            per_owner: list[tuple[Formatter, Path | None]] = [
                (fmt, local_dir / "owners" / name / t.name) for fmt, t in planned if t is not None
            ]
            written += emit(part, per_owner, opts)
    if s3 is not None and local_dir is not None:
        profile = getattr(settings.get("aws"), "profile", None)
        written = [*s3.upload(local_dir, [Path(p) for p in written], profile)]
    shown = [p if isinstance(p, str) else str(p.absolute()) for p in written]
    for problem in notify.send(alerts, report, shown, opts.debug):
        sys.stderr.write(f"aifinops: warning: {plain(problem)}\n")  # also with -q: an alert was lost
    if not opts.quiet:
        for path in written:
            err.print(f"wrote {markup(path)}")
    code = exit_code(report, gate, len(outcome.internal_errors))
    if code != ExitCode.OK:  # also with -q: a cron mail must say what happened
        line = outcome_line(report, code, gate)
        if code == ExitCode.FINDINGS and missing_baseline is not None:
            line += f"; {baseline_hint(missing_baseline, short=True)}"
        sys.stderr.write(f"aifinops: {line} (exit {int(code)}: {meaning(code)})\n")
    unattended.done(report, written, int(code))
    raise typer.Exit(int(code))


def _option(provider: type[Provider], opt: ProviderOption) -> inspect.Parameter:
    """A provider's flag as a parameter of the `scan` command, in the provider's help panel."""
    info = typer.Option(*opt.flags, help=opt.help, envvar=opt.envvar, rich_help_panel=provider.panel())
    kind: Any
    if opt.kind == "flag":
        kind, default = bool, False
    elif opt.kind == "list":
        kind, default = list[str] | None, None
    else:
        kind, default = str | None, None
    return inspect.Parameter(
        f"{provider.name}__{opt.key}",
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[kind, info],
    )


def scan_command() -> Callable[..., None]:
    """`scan` with every registered provider's flags added (click parses them like its own);
    their values reach `scan` through the click context, by provider and option key."""
    try:
        providers = load_providers()
    except PluginLoadError:
        providers = {}  # `scan` itself reports it, exit 2
    extra = [(name, opt, _option(cls, opt)) for name, cls in providers.items() for opt in cls.options]
    base = inspect.signature(scan, eval_str=True)
    place_scan_options(list(base.parameters.values()))  # help panels, every format named
    params = [*base.parameters.values(), *(param for _, _, param in extra)]

    @functools.wraps(scan)
    def command(ctx: typer.Context, **kwargs: Any) -> None:
        values: dict[str, dict[str, Any]] = {}
        for name, opt, param in extra:
            value = kwargs.pop(param.name, None)
            if opt.kind == "list":
                value = _split(value) if opt.split else list(value or [])
            values.setdefault(name, {})[opt.key] = value
        ctx.meta[PROVIDER_VALUES] = values
        scan(ctx, **kwargs)

    command.__signature__ = base.replace(parameters=params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    del command.__wrapped__  # typer reads the signature above, not scan's
    return command


def baseline_hint(path: Path, short: bool = False) -> str:
    """What to do about a --baseline file that does not exist yet (a CI job's first run)."""
    create = f"`aifinops baseline create --output {path}`"
    if short:
        return f"no baseline at {path} yet: create it with {create}"
    return (
        f"baseline {path} does not exist yet, so every finding is new. Create it with {create} "
        "(with this scan's flags) and commit it: later runs then fail only on new findings."
    )


def outcome_line(report: Report, code: ExitCode, fail_on: Severity | Gate | None) -> str:
    """What a non-zero exit is about, in one line."""
    gate = fail_on if isinstance(fail_on, Gate) else Gate(fail_on)
    if code == ExitCode.FINDINGS and gate.tripped(report):
        return "failing: " + "; ".join(gate.reasons(report))
    failed = [c for c in report.coverage if c.status in ("failed", "skipped")]
    if code == ExitCode.INTERNAL:
        bugs = [c for c in failed if c.message.startswith("internal error")] or failed
        first = f": {plain(bugs[0].scanner)}: {plain(bugs[0].message)}" if bugs else ""
        return f"error: a scanner failed with an internal error{first}"
    first = (
        f"; first: {plain(failed[0].scanner)} {plain(failed[0].scope)}: {plain(failed[0].message)}"
        if failed
        else ""
    )
    return f"error: no scope could be scanned ({len(failed)} failed or skipped{first})"
