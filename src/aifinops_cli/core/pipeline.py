"""Run scanners, score what they saw against the rules, and build the report.

Scanners run concurrently (each one also fans out over its own regions, projects or files). A
scanner that fails is one coverage line, never the end of the scan. At the scan deadline
(`--timeout`) a scanner still running is one "timed out" coverage line and is not waited for;
scanners that fan out through `fan_out` stop at the deadline themselves and keep the scopes that
finished, so the runner allows them a short grace to hand those over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aifinops_cli import __version__
from aifinops_cli.core.fanout import fan_out, timed_out_message
from aifinops_cli.core.models import CoverageEntry, Observation, Report, ScanResult
from aifinops_cli.core.overlap import mark_overlaps
from aifinops_cli.core.plugin import ScanContext, Scanner, ScannerError
from aifinops_cli.core.rules import Rule, evaluate

log = logging.getLogger("aifinops")


@dataclass
class ScanOutcome:
    report: Report
    internal_errors: list[BaseException]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Optional client libraries and the extra that installs each (one place for this fact).
OPTIONAL_MODULES = {"google": "gcp", "kubernetes": "k8s", "genai_prices": "llm"}


def _run_one(cls: type[Scanner], ctx: ScanContext) -> tuple[ScanResult, BaseException | None]:
    ctx.progress(f"{cls.name}: scanning")
    try:
        return cls(ctx).scan(), None
    except ScannerError as exc:
        return ScanResult(cls.name, coverage=[CoverageEntry(cls.name, "*", "failed", str(exc),
                                                            errors=1)]), None
    except Exception as exc:  # a bug must not lose the other scanners' work
        extra = (OPTIONAL_MODULES.get((exc.name or "").split(".")[0])
                 if isinstance(exc, ModuleNotFoundError) else None)
        if extra is not None:
            message = (f"needs the optional package {exc.name!r}: "
                       f"pip install 'aifinops[{extra}]' (or 'aifinops[all]')")
            return ScanResult(cls.name, coverage=[CoverageEntry(cls.name, "*", "skipped",
                                                                message)]), None
        log.debug("scanner %s crashed", cls.name, exc_info=True)
        message = f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)"
        return ScanResult(cls.name, coverage=[CoverageEntry(cls.name, "*", "failed", message,
                                                            errors=1)]), exc


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
            found = [s for key in dict.fromkeys((obs.id, obs.name, f"{obs.account}/{obs.name}"))
                     if key for s in skus.get(key, ())]
            if found:
                obs = replace(obs, unpriced=tuple(dict.fromkeys(found)))
        out.append(obs)
    return out


def grace_seconds(scan_timeout: float | None) -> float:
    """How long after the deadline the runner waits for scanners to hand over finished scopes."""
    return 0.0 if scan_timeout is None else min(5.0, max(0.5, 0.1 * scan_timeout))


def run_scan(ctx: ScanContext, scanners: list[type[Scanner]], rules: list[Rule]) -> ScanOutcome:
    started = now_iso()
    workers = max(1, min(len(scanners), 4))
    deadline = ctx.deadline
    if deadline is not None:
        deadline += grace_seconds(ctx.options.limits.scan_timeout)
    outcomes: list[tuple[ScanResult, BaseException | None]] = []
    for done in fan_out(scanners, lambda cls: _run_one(cls, ctx), workers=workers,
                        deadline=deadline, name="scanner"):
        if done.value is not None:
            outcomes.append(done.value)
        elif done.timed_out:
            ctx.progress(f"{done.scope.name}: timed out")
            outcomes.append((ScanResult(done.scope.name, coverage=[CoverageEntry(
                done.scope.name, "*", "failed", timed_out_message(ctx), errors=1)]), None))
        else:  # _run_one catches Exception; only a BaseException (SystemExit from a plugin) is left
            assert done.error is not None
            raise done.error
    observations = []
    coverage: list[CoverageEntry] = []
    analysis: dict = {}
    unpriced: list[dict[str, str]] = []
    errors: list[BaseException] = list(ctx.internal_errors)
    for result, error in outcomes:
        observations.extend(mark_unpriced(result))
        coverage.extend(result.coverage)
        analysis.update(result.analysis)
        unpriced.extend(result.unpriced)
        if error is not None:
            errors.append(error)
    findings = evaluate(rules, observations)
    mark_overlaps(findings)
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
    )
    return ScanOutcome(report, errors)
