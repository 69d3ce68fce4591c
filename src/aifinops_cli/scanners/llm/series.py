"""LLM spend as time series (day or hour, by team, app and model) for forecasts and anomalies.

Reads the logs with the scanner's own engine (same formats, prices and attribution) and asks
its `req` view one GROUP BY; nothing here parses a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import CoverageEntry
from aifinops_cli.scanners.llm.engine import Engine
from aifinops_cli.scanners.llm.inputs import resolve_inputs
from aifinops_cli.scanners.llm.pricing import load_tiers
from aifinops_cli.scanners.llm.provider import LlmSettings
from aifinops_cli.scanners.llm.scanner import price_book, settings_from

UNATTRIBUTED = "(unattributed)"


@dataclass(frozen=True)
class LlmSpend:
    at: datetime  # start of the hour (or day)
    team: str
    app: str
    model: str
    cost: float
    requests: int


@dataclass
class LlmSeriesRead:
    rows: list[LlmSpend] = field(default_factory=list)
    coverage: list[CoverageEntry] = field(default_factory=list)
    unpriced_requests: int = 0


def read_llm_spend(
    paths: list[str], config: Config, grain: str = "hour", log_format: str | None = None
) -> LlmSeriesRead:
    """Priced spend per `grain` ('hour' or 'day'), team, app and model; unpriced requests counted."""
    if grain not in ("hour", "day"):
        raise ValueError(grain)
    section = config.section("llm")
    settings = settings_from(section, LlmSettings(logs=list(paths), log_format=log_format))
    book = price_book(section, settings)
    tiers = load_tiers(section.get("tiers_file"))
    out = LlmSeriesRead()
    engine = Engine(settings)
    try:
        files, problems = resolve_inputs(list(paths), engine.workdir)
        for p in problems:
            out.coverage.append(CoverageEntry("llm", p.scope, "failed", p.message, errors=1))
        loaded = 0
        for file in files:
            res = engine.load(file)
            if res.error:
                out.coverage.append(CoverageEntry("llm", file.display, "failed", res.error, errors=1))
                continue
            loaded += 1
            status = "partial" if res.bad else "ok"
            msg = f"{res.fmt}: {res.rows} records" + (f", {res.bad} unparseable" if res.bad else "")
            out.coverage.append(
                CoverageEntry("llm", file.display, status, msg, resources=res.rows - res.bad, errors=res.bad)
            )
        if not loaded:
            return out
        engine.price(book, tiers)
        out.rows, out.unpriced_requests = spend_rows(engine.con, grain)
    finally:
        engine.close()
    return out


def spend_rows(con: Any, grain: str = "hour") -> tuple[list[LlmSpend], int]:
    """(priced spend per period, team, app and model; unpriced requests) from a priced `req` view."""
    if grain not in ("hour", "day"):
        raise ValueError(grain)
    rows: list[Any] = con.execute(f"""
SELECT date_trunc('{grain}', ts) AS period, coalesce(team, '') AS team, coalesce(app, '') AS app,
  model, fsum(cost) AS cost, count(*) AS requests, count(*) - count(cost) AS unpriced
FROM req WHERE ts IS NOT NULL GROUP BY ALL ORDER BY period""").fetchall()
    out, unpriced_n = [], 0
    for at, team, app, model, cost, n, unpriced in rows:
        unpriced_n += int(unpriced)
        if cost is not None:
            out.append(
                LlmSpend(at, team or UNATTRIBUTED, app or UNATTRIBUTED, str(model or ""), float(cost), int(n))
            )
    return out, unpriced_n
