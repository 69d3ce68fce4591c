"""The `billing` scanner: FOCUS, AWS CUR (legacy and 2.0) and GCP billing exports.

Inputs are grouped by detected format and each group is answered by one SQL statement (see
queries.py) over a normalised view; DuckDB runs it locally, Athena or BigQuery remotely. The
scanner observes egress flows and AI spend; rules in rules/billing.yaml decide what is waste.

Spend anomalies: when a local export spans at least the `billing-spend-anomaly` rule's
`min_history` + `window` days, a second GROUP BY reads its daily spend by owner, service and
kind of charge (scanners/billing/series.py, the statement `aifinops forecast` uses) and the
forecasting package's detector turns the days above the model's band into
`billing.spend_anomaly` observations for rules/anomaly.yaml. Shorter exports skip that pass.
Athena and BigQuery tables are not checked for anomalies.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import CoverageEntry, ScanResult
from aifinops_cli.core.plugin import Limits, ScanContext, Scanner, ScannerError
from aifinops_cli.forecasting import anomaly
from aifinops_cli.forecasting.anomaly import OBSERVATION_FIELDS as ANOMALY_FIELDS
from aifinops_cli.scanners.billing.analyze import TableFacts, analysis_section, observations, run_analysis
from aifinops_cli.scanners.billing.formats import FORMATS, Mapping, detect
from aifinops_cli.scanners.billing.provider import BillingSettings, load_ai_patterns
from aifinops_cli.scanners.billing.queries import RAW_TEXT, AiPatterns
from aifinops_cli.scanners.billing.sources import (
    AthenaEngine,
    BigQueryEngine,
    DuckDBEngine,
    S3Fetch,
    SourceProblem,
    expand_local,
    iter_args,
    kind_of,
    parse_remote,
)
from aifinops_cli.scanners.localfiles import Unreadable

NAME = "billing"
_FORMAT_LABELS = {
    "focus": "FOCUS",
    "cur": "AWS CUR (legacy)",
    "cur2": "AWS CUR 2.0",
    "gcp": "Google Cloud billing export",
}


@dataclass
class BillingRead:
    facts: list[TableFacts] = field(default_factory=list)
    coverage: list[CoverageEntry] = field(default_factory=list)
    # (day, owner, service, kind, currency, cost) of the exports long enough for anomalies
    charges: list[tuple[Any, ...]] = field(default_factory=list)
    charge_labels: list[str] = field(default_factory=list)


def _owner_keys(config: Config) -> list[str]:
    keys = config.section("billing").get("owner_tag_keys")
    return [str(k) for k in keys] if keys else list(config.owner_tag_keys)


def _ai_patterns(config: Config) -> AiPatterns:
    return load_ai_patterns(config.section("billing"))


def _mapping(schema: Any, fmt_override: str | None, owner_keys: list[str], dialect: Any) -> Mapping:
    if fmt_override:
        if fmt_override not in FORMATS:
            raise SourceProblem(
                f"unknown --billing-format {fmt_override!r}; choose from {', '.join(FORMATS)}"
            )
        fmt, label = fmt_override, _FORMAT_LABELS[fmt_override]
    else:
        found = detect(schema)
        if found is None:
            cols = ", ".join(schema.raw_names[:12]) + (" ..." if len(schema.raw_names) > 12 else "")
            raise SourceProblem(
                "not a FOCUS, AWS CUR or GCP billing export (columns: "
                + (cols or "none")
                + "); pass --billing-format focus|cur|cur2|gcp if it is one"
            )
        fmt, label = found
    return Mapping(fmt, label, dialect, schema, owner_keys)


def _group_label(files: list[str]) -> str:
    if len(files) == 1:
        return files[0]
    common = os.path.commonpath(files)
    return f"{len(files)} files in {common}"


def read_billing(
    paths: list[str],
    config: Config,
    *,
    fmt_override: str | None = None,
    profile: str | None = None,
    progress: Any = lambda m: None,
    limits: Limits | None = None,
    daily_min_days: int = 0,
) -> BillingRead:
    """Read every input; one CoverageEntry per file group or table, never an exception.

    `limits` bound the S3 requests (the scan's timeouts and attempts). `daily_min_days` > 0: a
    local file group spanning at least that many days also gets its daily charges read into
    `charges` (for spend anomalies)."""
    out = BillingRead()
    section = config.section("billing")
    owner_keys = _owner_keys(config)
    ai = _ai_patterns(config)
    duck = DuckDBEngine(memory_limit=str(section.get("memory_limit", "1GB")))
    s3 = S3Fetch(limits=limits or Limits())
    try:
        local: list[tuple[str, str]] = []  # (file, as given)
        for arg in iter_args(paths):
            if arg.startswith(("athena://", "bigquery://")):
                _remote(arg, section, owner_keys, ai, fmt_override, profile, out, progress)
                continue
            unreadable: list[Unreadable] = []
            try:
                files = (
                    s3.fetch(arg, profile, unreadable)
                    if arg.startswith("s3://")
                    else expand_local(arg, unreadable)
                )
            except SourceProblem as exc:
                out.coverage.append(CoverageEntry(NAME, arg, "failed", str(exc), errors=1))
                continue
            out.coverage += [CoverageEntry(NAME, u.path, "failed", u.message, errors=1) for u in unreadable]
            if not files and not unreadable:
                out.coverage.append(
                    CoverageEntry(
                        NAME, arg, "failed", "no billing files found (CSV, CSV.gz, Parquet, JSON)", errors=1
                    )
                )
            local += [(f, arg) for f in files]
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        mappings: dict[tuple[str, str], Mapping] = {}
        for file, arg in local:
            shown = file if not arg.startswith("s3://") else arg.rstrip("/") + "/" + Path(file).name
            if not os.path.isfile(file):
                out.coverage.append(CoverageEntry(NAME, shown, "failed", "no such file", errors=1))
                continue
            kind = kind_of(file)
            try:
                schema = duck.schema(duck.source(kind, [file]))
                mapping = _mapping(schema, fmt_override, owner_keys, duck.dialect)
            except SourceProblem as exc:
                out.coverage.append(CoverageEntry(NAME, shown, "failed", str(exc), errors=1))
                continue
            except Exception as exc:  # DuckDB: unreadable, truncated or not this kind of file
                out.coverage.append(
                    CoverageEntry(
                        NAME, shown, "failed", f"cannot read as {kind}: {_first_line(exc)}", errors=1
                    )
                )
                continue
            groups[(mapping.fmt, kind)].append(file)
            mappings.setdefault((mapping.fmt, kind), mapping)
        for (fmt, kind), files in groups.items():
            progress(f"billing: {len(files)} {fmt} file(s)")
            _local_group(duck, files, kind, fmt_override, owner_keys, ai, out, daily_min_days)
    finally:
        duck.close()
        s3.close()
    return out


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _local_group(
    duck: DuckDBEngine,
    files: list[str],
    kind: str,
    fmt: str | None,
    owner_keys: list[str],
    ai: AiPatterns,
    out: BillingRead,
    daily_min_days: int = 0,
) -> None:
    """All files of one format in one statement; if that fails, file by file to find the bad one."""
    if _query_files(
        duck, files, kind, fmt, owner_keys, ai, out, isolate=len(files) > 1, daily_min_days=daily_min_days
    ):
        return
    for file in files:
        _query_files(
            duck, [file], kind, fmt, owner_keys, ai, out, isolate=False, daily_min_days=daily_min_days
        )


def _daily_charges(
    duck: DuckDBEngine, mapping: Mapping, source: str, facts: TableFacts, out: BillingRead
) -> None:
    """Daily spend by owner, service and kind of charge in the export's main currency."""
    from aifinops_cli.scanners.billing.series import daily_sql

    try:
        rows = duck.con.sql(daily_sql(mapping, source)).fetchall()
    except Exception as exc:  # the findings of statement 1 stand; only anomalies are missing
        out.coverage.append(
            CoverageEntry(NAME, facts.label, "partial", f"spend anomalies not checked: {_first_line(exc)}")
        )
        return
    out.charges += [
        (day, owner, service, kind, currency, float(cost))
        for day, owner, service, kind, currency, cost, _, _ in rows
        if day is not None and cost is not None and currency == facts.currency
    ]
    out.charge_labels.append(facts.label)


def _query_files(
    duck: DuckDBEngine,
    files: list[str],
    kind: str,
    fmt: str | None,
    owner_keys: list[str],
    ai: AiPatterns,
    out: BillingRead,
    isolate: bool,
    daily_min_days: int = 0,
) -> bool:
    source = duck.source(kind, files)
    try:
        schema = duck.schema(source)
        mapping = _mapping(schema, fmt, owner_keys, duck.dialect)
        facts = run_analysis(
            duck,
            mapping.view_sql(source),
            ai,
            _group_label(files),
            mapping.label,
            constant=mapping.constant_nulls(),
            grain_view_sql=mapping.view_sql(source, RAW_TEXT),
        )
        facts.kind = kind
    except SourceProblem as exc:
        out.coverage += [CoverageEntry(NAME, f, "failed", str(exc), errors=1) for f in files]
        return True
    except Exception as exc:  # DuckDB: truncated or corrupt file
        if isolate:
            return False
        out.coverage.append(
            CoverageEntry(NAME, files[0], "failed", f"cannot read: {_first_line(exc)}", errors=1)
        )
        return True
    if facts.bad_cost_rows or facts.bad_date_rows:
        facts.bad_rows = _locate_bad_rows(duck, files, kind, mapping)
    _record(out, facts)
    if daily_min_days and facts.days >= daily_min_days:
        _daily_charges(duck, mapping, source, facts, out)
    return True


BAD_ROWS_SHOWN = 5


def _locate_bad_rows(
    duck: DuckDBEngine,
    files: list[str],
    kind: str,
    mapping: Mapping,
) -> list[tuple[str, int, str]]:
    """(file, row, what) of the first unreadable rows, row 1 being the first data row.

    Run only when statement 1 counted some: it reads each file again in order (WITH ORDINALITY),
    which the one-pass statement does not do."""
    exprs = mapping.expressions()
    found: list[tuple[str, int, str]] = []
    for file in files:
        if len(found) >= BAD_ROWS_SHOWN:
            break
        sql = (
            f"SELECT n, c IS NULL AS bad_cost FROM (SELECT ordinality AS n, {exprs['cost']} AS c, "
            f"{exprs['usage_date']} AS d FROM {duck.source(kind, [file])} WITH ORDINALITY) "
            f"WHERE c IS NULL OR d IS NULL ORDER BY n LIMIT {BAD_ROWS_SHOWN - len(found)}"
        )
        try:
            rows = duck.run(sql)
        except Exception:  # the counts stand; only the locations are missing
            continue
        found += [(file, int(r["n"]), "cost" if r["bad_cost"] else "date") for r in rows]
    return found


def _where(bad_rows: list[tuple[str, int, str]], kind: str) -> str:
    parts = []
    for file, row, what in bad_rows:
        line = f", line {row + 1}" if kind == "csv" else ""
        parts.append(f"{Path(file).name} row {row}{line} ({what})")
    return ", ".join(parts)


def _record(out: BillingRead, facts: TableFacts) -> None:
    label, format_label = facts.label, facts.format_label
    out.facts.append(facts)
    problems = []
    # rows - usable already counts the other currencies' rows: they are not usable_rows
    unusable = facts.rows - facts.usable_rows
    if facts.bad_cost_rows:
        problems.append(f"{facts.bad_cost_rows} row(s) with an unreadable cost (not a finite number)")
    if facts.bad_date_rows:
        problems.append(f"{facts.bad_date_rows} row(s) with an unreadable date")
    if facts.bad_rows:
        more = facts.bad_cost_rows + facts.bad_date_rows > len(facts.bad_rows)
        problems.append(("first at " if more else "at ") + _where(facts.bad_rows, facts.kind))
    if len(facts.currencies) > 1:
        others = ", ".join(
            f"{c} ({int(v['rows'])} rows)" for c, v in sorted(facts.currencies.items()) if c != facts.currency
        )
        problems.append(
            f"mixed currencies: figures use {facts.currency}; {others} counted as unusable "
            "(scan each currency's export separately)"
        )
    if facts.usable_rows == 0:
        problems.append("no usable rows")
    status = "ok" if not problems else ("failed" if facts.usable_rows == 0 else "partial")
    message = f"{format_label}, {facts.period}, {facts.rows} rows"
    if unusable:
        message += f", {unusable} unusable"
    if problems:
        message += ": " + "; ".join(problems)
    out.coverage.append(
        CoverageEntry(NAME, label, status, message, resources=facts.usable_rows, errors=unusable)
    )


def _remote(
    url: str,
    section: dict[str, Any],
    owner_keys: list[str],
    ai: AiPatterns,
    fmt_override: str | None,
    profile: str | None,
    out: BillingRead,
    progress: Any,
) -> None:
    try:
        scheme, parts = parse_remote(url)
        progress(f"billing: {url}")
        engine: AthenaEngine | BigQueryEngine
        if scheme == "athena":
            cfg = section.get("athena") or {}
            engine = AthenaEngine(
                parts[0],
                parts[1],
                profile=profile,
                workgroup=cfg.get("workgroup") or os.environ.get("AIFINOPS_ATHENA_WORKGROUP"),
                output=cfg.get("output_location") or os.environ.get("AIFINOPS_ATHENA_OUTPUT"),
                region=cfg.get("region"),
                poll_seconds=float(cfg.get("poll_seconds", 0.5)),
            )
        else:
            cfg = section.get("bigquery") or {}
            engine = BigQueryEngine(
                parts[0],
                parts[1],
                parts[2],
                endpoint=cfg.get("endpoint") or os.environ.get("AIFINOPS_BIGQUERY_ENDPOINT"),
                billing_project=cfg.get("billing_project"),
            )
        schema = engine.schema()
        mapping = _mapping(schema, fmt_override, owner_keys, engine.dialect)
        facts = run_analysis(
            engine,
            mapping.view_sql(engine.source()),
            ai,
            url,
            mapping.label,
            constant=mapping.constant_nulls(),
        )
    except SourceProblem as exc:
        out.coverage.append(CoverageEntry(NAME, url, "failed", str(exc), errors=1))
        return
    except Exception as exc:  # client errors: permissions, missing table, network
        out.coverage.append(
            CoverageEntry(NAME, url, "failed", f"{type(exc).__name__}: {_first_line(exc)}", errors=1)
        )
        return
    _record(out, facts)


class BillingScanner(Scanner):
    name = NAME
    provider = "billing"
    description = (
        "FOCUS, AWS CUR and GCP billing exports (files, s3://, athena://, bigquery://): "
        "egress flows, the AI data path by owner, billed totals"
    )
    kinds = ("billing.egress_flow", "billing.untagged_ai_spend", "billing.spend_anomaly")
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "billing.egress_flow": (
            "ai_cost_per_month",
            "ai_gb_per_month",
            "ai_related",
            "billing_source",
            "cost_per_month",
            "currency",
            "destination",
            "format",
            "gb_per_month",
            "owner_share_pct",
            "owners",
            "part",
            "period",
            "resources",
            "source",
            "top_resources",
            "transfer_class",
            "unit_cost_per_gb",
        ),
        "billing.untagged_ai_spend": (
            "ai_cost_per_month",
            "billing_source",
            "currency",
            "format",
            "owners",
            "period",
            "untagged_by_component",
            "untagged_cost_per_month",
            "untagged_share_pct",
        ),
        "billing.spend_anomaly": ANOMALY_FIELDS,
    }

    def scan(self) -> ScanResult:
        ctx: ScanContext = self.context
        flags: BillingSettings = ctx.settings("billing")
        if not flags.paths:
            raise ScannerError("no billing export given: pass --billing PATH")
        params = anomaly.scan_settings(ctx.config, "billing")
        need = int(params["min_history"] + params["window"]) if params else 0
        read = read_billing(
            flags.paths,
            ctx.config,
            fmt_override=flags.format,
            profile=ctx.settings("aws").profile,
            progress=ctx.progress,
            limits=ctx.options.limits,
            daily_min_days=need,
        )
        if ctx.options.strict:
            bad = [c for c in read.coverage if c.status != "ok"]
            if bad:
                raise ScannerError(f"--strict: {bad[0].scope}: {bad[0].message}")
        result = ScanResult(NAME, coverage=read.coverage)
        top = int(ctx.config.section("billing").get("top_flows", 10))
        for facts in read.facts:
            result.observations.extend(observations(facts))
        if read.facts:
            result.analysis["billing"] = analysis_section(read.facts, top_flows=top)
        if params and read.charges:
            ctx.progress("billing: spend anomalies")
            result.observations.extend(_anomalies(read, params, result))
        return result


def _anomalies(read: BillingRead, params: dict[str, float], result: ScanResult) -> list[Any]:
    """Daily usage spend by owner and by service above the model's band; recurring and one-time
    charges are left out (an RI fee on the 1st is expected), as in `aifinops forecast`."""
    from aifinops_cli.forecasting.charges import DailyCharge, resolve_fees
    from aifinops_cli.forecasting.model import ForecastUnavailable
    from aifinops_cli.scanners.billing.analyze import UNTAGGED

    note = anomaly.unavailable_note(NAME)
    if note is not None:
        result.coverage.append(note)
        return []
    by_currency: dict[str, float] = defaultdict(float)
    for *_, currency, cost in read.charges:
        by_currency[currency] += abs(cost)
    main = max(sorted(by_currency), key=lambda c: by_currency[c])
    totals: dict[tuple[Any, str, str, str], float] = defaultdict(float)
    for day, owner, service, kind, currency, cost in read.charges:
        if currency == main:
            totals[(day, owner or UNTAGGED, service, kind)] += cost
    rows = resolve_fees([DailyCharge(d, o, s, k, v) for (d, o, s, k), v in totals.items()])
    try:
        found = anomaly.billing_anomalies(rows, params)
    except ForecastUnavailable as exc:
        result.coverage.append(CoverageEntry(NAME, "spend anomalies", "skipped", f"not checked: {exc}"))
        return []
    source = ", ".join(read.charge_labels)
    return [anomaly.observation(a, "billing", source, main) for a in found]
