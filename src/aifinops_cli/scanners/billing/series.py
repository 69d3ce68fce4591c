"""Daily spend by owner, service and kind of charge, read from billing exports in one pass
(the billing provider's input to `aifinops forecast` and to spend anomalies).

The billing scanner's normalised view (scanners/billing/formats.py) maps each format's columns;
this module adds the one thing a forecast needs that the scanner does not: what kind of charge
a line is. Usage is forecast by the model; recurring charges (FOCUS `ChargeFrequency`
Recurring, CUR `RIFee`, `SavingsPlanRecurringFee`, and a CUR `Fee` that comes back every month)
are projected as what they are: the same amount on the same day of the month, or at their last
daily rate; one-time charges (FOCUS One-Time, CUR `SavingsPlanUpfrontFee`, a `Fee` seen once)
are not carried forward at all.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import CoverageEntry
from aifinops_cli.forecasting.charges import FEE, ONE_TIME, RECURRING, USAGE, DailyCharge, resolve_fees
from aifinops_cli.scanners.billing.analyze import UNTAGGED
from aifinops_cli.scanners.billing.formats import FORMATS, Mapping, detect
from aifinops_cli.scanners.billing.sources import (
    DuckDBEngine,
    S3Fetch,
    SourceProblem,
    expand_local,
    iter_args,
    kind_of,
)

NAME = "forecast"
# CUR line item types (lineItem/LineItemType) by what they are
CUR_RECURRING = ("RIFee", "SavingsPlanRecurringFee")
CUR_ONE_TIME = ("SavingsPlanUpfrontFee",)
CUR_FEE = ("Fee",)  # upfront RI fees and monthly subscriptions alike: decided by cadence


@dataclass
class DailyRead:
    rows: list[DailyCharge] = field(default_factory=list)
    coverage: list[CoverageEntry] = field(default_factory=list)
    currency: str = "USD"
    other_currencies: dict[str, float] = field(default_factory=dict)


def _kind_sql(m: Mapping) -> str:
    """A kind for each billing row, from the documented charge columns of its format."""
    freq = m.text("charge_frequency") if m.fmt == "focus" else m.dialect.null_text
    cat = m.expressions()["charge_category"]
    lit = m.dialect.lit
    in_ = lambda xs: ", ".join(lit(x) for x in xs)  # noqa: E731
    return (
        f"CASE WHEN lower({freq}) = 'recurring' OR {cat} IN ({in_(CUR_RECURRING)}) THEN '{RECURRING}' "
        f"WHEN lower({freq}) = 'one-time' OR {cat} IN ({in_(CUR_ONE_TIME)}) THEN '{ONE_TIME}' "
        f"WHEN {cat} IN ({in_(CUR_FEE)}) THEN '{FEE}' ELSE '{USAGE}' END"
    )


def daily_sql(m: Mapping, source: str) -> str:
    e = m.expressions()
    return f"""SELECT {e["usage_date"]} AS day, COALESCE({e["owner"]}, '') AS owner,
  COALESCE({e["service"]}, '') AS service, {_kind_sql(m)} AS kind,
  COALESCE({e["currency"]}, 'unknown') AS currency, SUM({e["cost"]}) AS cost,
  COUNT(*) AS n_rows, COUNT({e["cost"]}) AS n_cost
FROM {source}
GROUP BY ALL"""


def read_daily(
    paths: list[str], config: Config, fmt_override: str | None = None, profile: str | None = None
) -> DailyRead:
    """Every local or s3:// export; one coverage entry per file, never an exception."""
    out = DailyRead()
    section = config.section("billing")
    keys = section.get("owner_tag_keys")
    owner_keys = [str(k) for k in keys] if keys else list(config.owner_tag_keys)
    duck = DuckDBEngine(memory_limit=str(section.get("memory_limit", "1GB")))
    s3 = S3Fetch()
    raw: dict[tuple[date, str, str, str, str], float] = defaultdict(float)
    try:
        for arg in iter_args(paths):
            if arg.startswith(("athena://", "bigquery://")):
                out.coverage.append(
                    CoverageEntry(
                        NAME, arg, "skipped", "forecast reads files and s3:// exports only", errors=1
                    )
                )
                continue
            try:
                files = s3.fetch(arg, profile) if arg.startswith("s3://") else expand_local(arg)
            except SourceProblem as exc:
                out.coverage.append(CoverageEntry(NAME, arg, "failed", str(exc), errors=1))
                continue
            if not files:
                out.coverage.append(CoverageEntry(NAME, arg, "failed", "no billing files found", errors=1))
            for file in files:
                _read_file(duck, file, fmt_override, owner_keys, raw, out)
    finally:
        duck.close()
        s3.close()
    by_currency: dict[str, float] = defaultdict(float)
    for (_, _, _, _, cur), v in raw.items():
        by_currency[cur] += abs(v)
    if by_currency:
        out.currency = max(sorted(by_currency), key=lambda c: by_currency[c])
        out.other_currencies = {c: v for c, v in by_currency.items() if c != out.currency}
    rows = [DailyCharge(d, o or UNTAGGED, s, k, v) for (d, o, s, k, c), v in raw.items() if c == out.currency]
    out.rows = sorted(resolve_fees(rows), key=lambda r: (r.day, r.owner, r.service, r.kind))
    return out


def _read_file(
    duck: DuckDBEngine,
    file: str,
    fmt_override: str | None,
    owner_keys: list[str],
    raw: dict[tuple[date, str, str, str, str], float],
    out: DailyRead,
) -> None:
    if not os.path.isfile(file):
        out.coverage.append(CoverageEntry(NAME, file, "failed", "no such file", errors=1))
        return
    try:
        source = duck.source(kind_of(file), [file])
        schema = duck.schema(source)
        if fmt_override:
            if fmt_override not in FORMATS:
                raise SourceProblem(
                    f"unknown --billing-format {fmt_override!r}; choose from {', '.join(FORMATS)}"
                )
            fmt, label = fmt_override, fmt_override
        else:
            found = detect(schema)
            if found is None:
                raise SourceProblem("not a FOCUS, AWS CUR or GCP billing export")
            fmt, label = found
        mapping = Mapping(fmt, label, duck.dialect, schema, owner_keys)
        result = duck.con.sql(daily_sql(mapping, source)).fetchall()
    except SourceProblem as exc:
        out.coverage.append(CoverageEntry(NAME, file, "failed", str(exc), errors=1))
        return
    except Exception as exc:  # DuckDB: unreadable, truncated or not this kind of file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        out.coverage.append(CoverageEntry(NAME, file, "failed", f"cannot read: {first}", errors=1))
        return
    n = bad = 0
    for day, owner, service, kind, currency, cost, n_rows, n_cost in result:
        n += n_rows
        if day is None or cost is None:
            bad += n_rows if day is None else n_rows - n_cost
            continue
        bad += n_rows - n_cost
        raw[(day, owner, service, kind, currency)] += float(cost)
    status = "ok" if not bad else ("failed" if bad == n else "partial")
    msg = f"{label}, {n} rows" + (f", {bad} without a readable date or cost" if bad else "")
    out.coverage.append(CoverageEntry(NAME, file, status, msg, resources=n - bad, errors=bad))
