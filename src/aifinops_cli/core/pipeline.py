"""The scan pipeline, one function below the CLI: `scan(request) -> ScanOutcome`.

prepare (select the scanners, check their config sections: a bad one fails before any API
call) -> run the scanners -> evaluate the rules -> baseline -> suppressions -> overlap (once,
after suppressions: a suppressed finding no longer counts a machine) -> visibility. The CLI
parses its flags into a `ScanRequest`, calls `scan` (or `prepare` then `run`, to start its
spinner between the two) and renders the report; a library caller gets the CLI's totals.

Scanners run concurrently (each one also fans out over its own regions, projects or files). A
scanner that fails is one coverage line, never the end of the scan. At the scan deadline
(`--timeout`) a scanner still running is one "timed out" coverage line and is not waited for;
scanners that fan out through `fan_out` stop at the deadline themselves and keep the scopes that
finished, so the pipeline allows them a short grace to hand those over.
"""

from __future__ import annotations

import logging
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from aifinops_cli import __version__
from aifinops_cli.core import suppressions as supp
from aifinops_cli.core.baseline import apply_baseline
from aifinops_cli.core.config import Config
from aifinops_cli.core.coverage_score import assess
from aifinops_cli.core.fanout import fan_out, timed_out_message
from aifinops_cli.core.models import CoverageEntry, Finding, Observation, Report, ScanResult
from aifinops_cli.core.overlap import mark_overlaps
from aifinops_cli.core.plugin import Provider, ScanContext, Scanner, ScannerError, ScanOptions
from aifinops_cli.core.registry import (
    PluginLoadError,
    entry_names,
    for_providers,
    load_providers,
    load_scanners,
    provider_names,
    provider_of,
)
from aifinops_cli.core.rules import (
    Rule,
    Vocabulary,
    check_rule_patterns,
    check_vocabulary,
    evaluate,
    sort_findings,
)
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.errors import AifinopsError
from aifinops_cli.pricing.catalog import PriceCatalog

log = logging.getLogger("aifinops")
DEFAULT_PROVIDER = "aws"  # scanned when no provider is named and no input is given


Extension = Callable[[Report, list[Rule]], list[Finding]]
"""Adds a section to the report and returns the findings its rules give (see ScanRequest)."""


class RequestError(AifinopsError):
    """A request that cannot run (an unknown scanner, a bad config section): a usage error, exit 2,
    raised before any scan work."""


@dataclass
class ScanRequest:
    """Everything one scan needs, already parsed: what the CLI builds from its flags and config."""

    options: ScanOptions
    config: Config
    rules: list[Rule]
    prices: PriceCatalog
    baseline: set[str] | None = None  # fingerprints of a previous report: its findings are "known"
    suppressions: list[supp.Suppression] = field(default_factory=list)
    suppression_files: list[str] = field(default_factory=list)  # applied when given, even if empty
    scanners: list[str] = field(default_factory=list)  # exactly these; none: every one that applies
    progress: Callable[[str], None] = lambda message: None
    now: datetime | None = None  # the scan's clock (default: now, UTC)
    today: date | None = None  # the day suppressions expire against (default: today, local)
    # after the rules, before baseline and suppressions: sections built from the whole report
    # that add findings of their own (the CLI's unit economics, economics/), judged like the rest
    extensions: list[Extension] = field(default_factory=list)


@dataclass
class ScanOutcome:
    report: Report
    internal_errors: list[BaseException]
    scanners: list[type[Scanner]] = field(default_factory=list)
    suppression: supp.SuppressionOutcome | None = None  # what the suppression files did


@dataclass
class Plan:
    """A prepared request: its scanners chosen and their config checked, nothing run yet."""

    request: ScanRequest
    scanners: list[type[Scanner]]
    warnings: list[str] = field(default_factory=list)  # rules of providers not installed, ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def select_scanners(options: ScanOptions, names: list[str]) -> list[type[Scanner]]:
    """Named scanners, or every scanner that applies to the inputs given (AWS when none are).

    Only the scanners that may run are imported (see core/registry.py).
    """
    try:
        if names:
            wanted = set(names)
            registry = load_scanners(lambda ep_name: ep_name in wanted)
            if not wanted <= set(registry):  # a plugin's class may be named apart from its entry
                registry = load_scanners()
            unknown = [n for n in names if n not in registry]
            if unknown:
                raise RequestError(
                    f"unknown scanner(s) {', '.join(unknown)}; known: {', '.join(registry)} "
                    "(see `aifinops scanners list`)"
                )
            return [registry[n] for n in names]
        if not options.in_play():
            options.providers.append(DEFAULT_PROVIDER)
        registry = load_scanners(for_providers(options.in_play()))
    except PluginLoadError as exc:
        raise RequestError(str(exc)) from None
    chosen = [cls for cls in registry.values() if cls.applies(options)]
    if not chosen:
        raise RequestError(
            "no scanner applies to these inputs: name one with --scanner, a --provider, "
            "--llm-logs or --billing"
        )
    return chosen


def _located(exc: Exception, config: Config) -> RequestError:
    """A config problem as one line at the file:line of the key its message names."""
    key = re.search(r"\bconfig ([a-z_]+(?:\.[a-z_0-9]+)*)", str(exc))
    place = config.where(key.group(1)) if key else config.source
    return RequestError(f"{place}: {exc}" if config.source != "defaults" else str(exc))


def check_scanner_config(chosen: list[type[Scanner]], config: Config, options: ScanOptions) -> None:
    """Each chosen scanner's config section, before any scan work: a bad one is exit 2."""
    for cls in chosen:
        try:
            cls.check_config(config, options)
        except (ScannerError, SourceError) as exc:
            raise _located(exc, config) from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise RequestError(
                f"{config.source}: config for {cls.name}: {type(exc).__name__}: {exc}"
            ) from None


def check_provider_sections(
    providers: dict[str, type[Provider]], names: set[str], config: Config, options: ScanOptions
) -> None:
    """These providers' config sections and flags (Provider.check_section), before any scan work:
    a bad one is exit 2 at its file:line."""
    for name in sorted(names):
        provider = providers[name]
        try:
            provider.check_section(config.section(provider.section_name()), options.settings_for(name))
        except (ScannerError, SourceError, ValueError) as exc:
            raise _located(exc, config) from None
        except (TypeError, KeyError, AttributeError) as exc:
            raise RequestError(
                f"{config.where(provider.section_name())}: config "
                f"{provider.section_name()}: {type(exc).__name__}: {exc}"
            ) from None


def check_rules_against_scanners(rules: list[Rule], providers: set[str] | None = None) -> list[str]:
    """Check `rules` against the kinds and fields the installed scanners declare (of these
    `providers` and every plugin; all when None): SourceError at the rule's file:line on a name
    no scanner produces. Returns warnings: kinds of providers no installed scanner knows,
    scanners that failed to load."""
    wanted = for_providers(providers) if providers is not None else None
    scanners: list[type[Scanner]] = []
    notes: list[str] = []
    failed: set[str] = set()
    for name in entry_names():
        if wanted is None or wanted(name):
            try:
                scanners += load_scanners(partial(operator.eq, name)).values()
            except PluginLoadError as exc:
                failed.add(provider_of(name))
                notes.append(f"{exc}: rules for {provider_of(name)}.* kinds are not checked")
    vocabulary = Vocabulary.of(scanners)
    known = set(provider_names())
    consulted = (set(providers) if providers is not None else known) - failed
    return notes + check_vocabulary(rules, vocabulary, (known - consulted) | failed)


def prepare(request: ScanRequest) -> Plan:
    """Check every provider section present in the config (whether or not its provider runs),
    choose the scanners, check the flags of their providers and the scanners' own config;
    RequestError if the scan cannot run."""
    options, config = request.options, request.config
    try:
        providers = load_providers()
    except PluginLoadError as exc:
        raise RequestError(str(exc)) from None
    for name, provider in providers.items():  # not given: from its config section only
        if name not in options.settings:
            section = provider.section_name()
            try:
                options.settings[name] = provider.settings({}, config.section(section))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise RequestError(
                    f"{config.where(section)}: config {section}: {type(exc).__name__}: {exc}"
                ) from None
    present = {name for name, p in providers.items() if p.section_name() in config.sections}
    check_provider_sections(providers, present, config, options)
    chosen = select_scanners(request.options, request.scanners)
    running = {cls.provider for cls in chosen if cls.provider in providers}
    check_provider_sections(providers, running - present, config, options)
    check_scanner_config(chosen, request.config, request.options)
    try:  # a rule naming what no scanner emits would silently never fire; a suppression's rule
        # glob that matches no rule would never suppress
        warnings = check_rules_against_scanners(request.rules, {cls.provider for cls in chosen})
        check_rule_patterns(
            [(e.rule, e.source, "rule") for e in request.suppressions if e.rule], request.rules
        )
    except SourceError as exc:
        raise RequestError(str(exc)) from None
    return Plan(request, chosen, warnings)


def run(plan: Plan) -> ScanOutcome:
    """Run a prepared request to its final report."""
    request = plan.request
    ctx = ScanContext(
        options=request.options,
        config=request.config,
        prices=request.prices,
        now=request.now or datetime.now(UTC),
        progress=request.progress,
    )
    return run_scan(
        ctx,
        plan.scanners,
        request.rules,
        baseline=request.baseline,
        suppressions=request.suppressions,
        suppression_files=request.suppression_files,
        today=request.today,
        extensions=request.extensions,
    )


def scan(request: ScanRequest) -> ScanOutcome:
    """The whole scan: prepare, run, evaluate, baseline, suppress, overlap once, visibility."""
    return run(prepare(request))


def optional_extra(module: str) -> str | None:
    """The extra that installs a missing module, from the providers' `client_modules` (the one
    place for this fact), matched on its top-level package."""
    top = module.split(".")[0]
    try:
        providers = load_providers().values()
    except PluginLoadError:
        return None
    return next(
        (p.extra for p in providers for m in p.client_modules if p.extra and m.split(".")[0] == top), None
    )


def _run_one(cls: type[Scanner], ctx: ScanContext) -> tuple[ScanResult, BaseException | None]:
    ctx.progress(f"{cls.name}: scanning")
    try:
        return cls(ctx).scan(), None
    except ScannerError as exc:
        return ScanResult(
            cls.name, coverage=[CoverageEntry(cls.name, "*", "failed", str(exc), errors=1)]
        ), None
    except Exception as exc:  # a bug must not lose the other scanners' work
        extra = optional_extra(exc.name or "") if isinstance(exc, ModuleNotFoundError) else None
        if extra is not None and isinstance(exc, ModuleNotFoundError):
            message = (
                f"needs the optional package {exc.name!r}: "
                f"pip install 'aifinops[{extra}]' (or 'aifinops[all]')"
            )
            return ScanResult(cls.name, coverage=[CoverageEntry(cls.name, "*", "skipped", message)]), None
        log.debug("scanner %s crashed", cls.name, exc_info=True)
        message = f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)"
        return ScanResult(cls.name, coverage=[CoverageEntry(cls.name, "*", "failed", message, errors=1)]), exc


# providers whose `unpriced` entries name a resource (an instance, a volume, a node); LLM and
# billing entries name models and accounts, not the observations rules judge
_RESOURCE_PROVIDERS = ("aws", "gcp", "azure", "k8s")


def mark_unpriced(result: ScanResult) -> list[Observation]:
    """Observations of `result` that a scanner listed as unpriced (by id, name or
    account/name) carry those SKUs, so rules and reports treat their dollars as a lower bound."""
    skus: dict[str, list[str]] = {}
    for entry in result.unpriced:
        if entry.get("scanner", result.scanner) == result.scanner and entry.get("resource_id"):
            skus.setdefault(entry["resource_id"], []).append(entry.get("sku", "") or "unknown")
    if not skus:
        return result.observations
    out = []
    for obs in result.observations:
        if not obs.unpriced and obs.provider in _RESOURCE_PROVIDERS:
            found = [
                s
                for key in dict.fromkeys((obs.id, obs.name, f"{obs.account}/{obs.name}"))
                if key
                for s in skus.get(key, ())
            ]
            if found:
                obs = replace(obs, unpriced=tuple(dict.fromkeys(found)))
        out.append(obs)
    return out


def grace_seconds(scan_timeout: float | None) -> float:
    """How long after the deadline the pipeline waits for scanners to hand over finished scopes."""
    return 0.0 if scan_timeout is None else min(5.0, max(0.5, 0.1 * scan_timeout))


def run_scan(
    ctx: ScanContext,
    scanners: list[type[Scanner]],
    rules: list[Rule],
    *,
    baseline: set[str] | None = None,
    suppressions: list[supp.Suppression] | None = None,
    suppression_files: list[str] | None = None,
    today: date | None = None,
    extensions: list[Extension] | None = None,
) -> ScanOutcome:
    """Run these scanners in `ctx` and finish their report: rules, baseline (every finding "new"
    without one), suppressions (when files or entries are given), overlap, visibility."""
    started = now_iso()
    workers = max(1, min(len(scanners), 4))
    deadline = ctx.deadline
    if deadline is not None:
        deadline += grace_seconds(ctx.options.limits.scan_timeout)
    outcomes: list[tuple[ScanResult, BaseException | None]] = []
    for done in fan_out(
        scanners, lambda cls: _run_one(cls, ctx), workers=workers, deadline=deadline, name="scanner"
    ):
        if done.value is not None:
            outcomes.append(done.value)
        elif done.timed_out:
            ctx.progress(f"{done.scope.name}: timed out")
            outcomes.append(
                (
                    ScanResult(
                        done.scope.name,
                        coverage=[
                            CoverageEntry(done.scope.name, "*", "failed", timed_out_message(ctx), errors=1)
                        ],
                    ),
                    None,
                )
            )
        else:  # _run_one catches Exception; only a BaseException (SystemExit from a plugin) is left
            assert done.error is not None
            raise done.error
    observed: list[tuple[str, Observation]] = []  # (scanner, observation)
    coverage: list[CoverageEntry] = []
    analysis: dict[str, Any] = {}
    unpriced: list[dict[str, str]] = []
    errors: list[BaseException] = list(ctx.internal_errors)
    usage = next((result.usage for result, _ in outcomes if result.usage is not None), None)
    for result, error in outcomes:
        observed.extend((result.scanner, obs) for obs in mark_unpriced(result))
        coverage.extend(result.coverage)
        analysis.update(result.analysis)
        unpriced.extend(result.unpriced)
        if error is not None:
            errors.append(error)
    observations = [obs for _, obs in observed]
    findings = evaluate(rules, observations)
    report = Report(
        tool_version=__version__,
        started_at=started,
        finished_at=now_iso(),
        scanners=[cls.name for cls in scanners],
        findings=findings,
        coverage=coverage,
        observations_count=len(observations),
        analysis=analysis,
        parameters={
            "lookback_days": ctx.options.lookback_days,
            "rules": {r.id: dict(r.params) for r in rules if r.enabled},
            "price_catalogs": ctx.prices.catalogs,
            "owner_tag_keys": list(ctx.config.owner_tag_keys),
        },
        unpriced=sorted(unpriced, key=lambda u: (u.get("sku", ""), u.get("resource_id", ""))),
        usage=usage,
        observed=observed,
    )
    for extension in extensions or ():
        found = extension(report, rules)
        if found:
            report.findings = sort_findings([*report.findings, *found])
    if baseline is not None:
        apply_baseline(report.findings, baseline)
    suppressed = None
    if suppression_files or suppressions:
        suppressed = supp.apply(
            report.findings, list(suppressions or []), today or date.today(), list(suppression_files or [])
        )
        report.suppressions = suppressed.to_dict()
    mark_overlaps(report.findings)  # once, after suppressions: a suppressed finding counts no machine
    report.visibility = assess(scanners, report.coverage)
    return ScanOutcome(report, errors, list(scanners), suppressed)
