"""Spend anomalies: days (billing) or hours (LLM logs) where one owner's, service's, model's or
app's spend leaves the forecast model's interval upwards.

For each series the model (`model.fit`) is trained on the history before a detection window
(the last `window` periods) and forecasts the window; a period is anomalous when its spend is
above the model's upper band (its `upper_percentile`, from the forecast-error variance) by at least
`min_excess_usd` and `min_excess_pct` of the expected level. Anomalous periods separated by at
most `max_gap` ordinary ones are one anomaly: when it started, the dollars above the expected
level, whether it is still going on (its last period is the last in the data). Thresholds
live in rules/anomaly.yaml.

The anchor is AWS Cost Anomaly Detection, which watches services, accounts and cost categories
in AWS's own bill; it does not see LLM API spend paid to other vendors (OpenAI, Anthropic
direct) nor a shift of spend from one vendor to another.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import CostLine, CoverageEntry, Observation
from aifinops_cli.core.rules import Rule
from aifinops_cli.forecasting import model as m

RULE_IDS = {"billing": "billing-spend-anomaly", "llm": "llm-spend-anomaly"}
DEFAULTS: dict[str, dict[str, Any]] = {
    "billing": {
        "window": 14,
        "period": 7,
        "upper_percentile": 99.0,
        "min_excess_usd": 50.0,
        "min_excess_pct": 30.0,
        "min_history": 28,
        "max_gap": 1,
        "max_history": 182,
    },
    "llm": {
        "window": 48,
        "period": 24,
        "upper_percentile": 99.0,
        "min_excess_usd": 5.0,
        "min_excess_pct": 50.0,
        "min_history": 72,
        "max_gap": 2,
        "max_history": 672,
    },
}


@dataclass(frozen=True)
class Anomaly:
    dimension: str  # owner | service | model | app | team
    value: str
    started: datetime
    last: datetime
    periods: int
    actual: float
    expected: float
    upper: float
    ongoing: bool
    unit: str  # day | hour

    @property
    def excess(self) -> float:
        return self.actual - self.expected


def settings(source: str, rules: list[Rule] | None) -> dict[str, float]:
    """Detection thresholds: the rule's params (rules/anomaly.yaml, --set, config) over DEFAULTS."""
    out = dict(DEFAULTS[source])
    for r in rules or []:
        if r.id == RULE_IDS[source]:
            for k, v in r.params.items():
                if k in out:
                    out[k] = float(v)
    return out


def scan_settings(config: Config, source: str) -> dict[str, float] | None:
    """`settings` for a scanner, from the rules as the config leaves them (rules/anomaly.yaml,
    config `rules:`, --set); None when the rule is disabled: nothing to look for."""
    from aifinops_cli.core.plugin import ScannerError
    from aifinops_cli.core.rules import load_rules
    from aifinops_cli.core.yamlsrc import SourceError

    try:
        rules = load_rules(config=config)
    except SourceError as exc:
        raise ScannerError(f"rules: {exc}") from exc
    rule = next((r for r in rules if r.id == RULE_IDS[source]), None)
    if rule is not None and not rule.enabled:
        return None
    try:
        return settings(source, rules)
    except (TypeError, ValueError) as exc:
        raise ScannerError(f"rule {RULE_IDS[source]}: a parameter is not a number: {exc}") from None


def unavailable_note(scanner: str) -> CoverageEntry | None:
    """What a scan says instead of anomalies when the optional `forecast` extra is not installed."""
    try:
        m.load_model()
    except m.ForecastUnavailable:
        return CoverageEntry(
            scanner,
            "spend anomalies",
            "skipped",
            "not checked: they need statsmodels: pip install 'aifinops[forecast]' "
            "(or pip install statsmodels)",
        )
    return None


def detect(
    values: np.ndarray, start: datetime, step: timedelta, dimension: str, value: str, params: dict[str, float]
) -> list[Anomaly]:
    """Anomalies in the last `window` periods of one dense series starting at `start`."""
    y = np.asarray(values, dtype=float)
    window = int(params["window"])
    cut = len(y) - window
    if cut < int(params["min_history"]):
        return []
    f = m.fit(y[:cut], window, int(params["period"]))
    z = NormalDist().inv_cdf(float(params["upper_percentile"]) / 100.0)
    upper = f.mean + z * f.step_sd()
    actual = y[cut:]
    excess = actual - f.mean
    flag = (
        (actual > upper)
        & (excess >= float(params["min_excess_usd"]))
        & (excess >= float(params["min_excess_pct"]) / 100.0 * np.maximum(np.abs(f.mean), 1e-9))
    )
    out: list[Anomaly] = []
    i = 0
    unit = "hour" if step < timedelta(days=1) else "day"
    gap = int(params.get("max_gap", 1))
    while i < window:
        if not flag[i]:
            i += 1
            continue
        j = i  # extend over runs separated by at most `gap` ordinary periods
        while True:
            nxt = next((k for k in range(j + 1, min(window, j + gap + 2)) if flag[k]), None)
            if nxt is None:
                break
            j = nxt
        sl = slice(i, j + 1)
        out.append(
            Anomaly(
                dimension,
                value,
                start + step * (cut + i),
                start + step * (cut + j),
                j - i + 1,
                float(actual[sl].sum()),
                float(f.mean[sl].sum()),
                float(upper[sl].sum()),
                j == window - 1,
                unit,
            )
        )
        i = j + 1
    return out


# the fields of a `<provider>.spend_anomaly` observation (what `observation` below emits), for
# the scanners' declarations (Scanner.fields) that rules are checked against
OBSERVATION_FIELDS = (
    "actual_usd",
    "currency",
    "dimension",
    "excess_pct",
    "excess_usd",
    "expected_usd",
    "last",
    "ongoing",
    "periods",
    "source",
    "started",
    "unit",
    "upper_usd",
    "value",
)


def observation(a: Anomaly, provider: str, source: str, currency: str = "USD") -> Observation:
    """One anomaly as an observation for the `anomaly` rules; its cost line is the excess."""
    fmt = "%Y-%m-%d %H:00" if a.unit == "hour" else "%Y-%m-%d"
    started, last = a.started.strftime(fmt), a.last.strftime(fmt)
    span = started if a.periods == 1 else f"{started} to {last}"
    return Observation(
        provider=provider,
        kind=f"{provider}.spend_anomaly",
        id=f"{a.dimension}:{a.value}:{started}",
        name=f"{a.dimension} {a.value}",
        owner=a.value if a.dimension in ("owner", "team") else "",
        metrics={
            "excess_usd": round(a.excess, 2),
            "actual_usd": round(a.actual, 2),
            "expected_usd": round(a.expected, 2),
            "upper_usd": round(a.upper, 2),
            "excess_pct": round(a.excess / a.expected * 100.0, 1) if a.expected > 0 else None,
            "periods": float(a.periods),
        },
        attributes={
            "dimension": a.dimension,
            "value": a.value,
            "started": started,
            "last": last,
            "ongoing": a.ongoing,
            "unit": a.unit,
            "currency": currency,
            "source": source,
        },
        cost_lines=(
            CostLine(
                f"spend above the forecast, {span}",
                round(a.excess, 2),
                "anomaly",
                1.0,
                source,
                a.started.date().isoformat(),
                sku=f"{provider}:{a.dimension}:{a.value}",
            ),
        ),
        evidence=(
            f"{a.dimension} {a.value}: {a.actual:,.2f} {currency} spent over {a.periods} "
            f"{a.unit}(s) from {started} against {a.expected:,.2f} expected (model upper band "
            f"{a.upper:,.2f}); {'still going on' if a.ongoing else 'ended ' + last}",
        ),
    )


def _dense(
    points: list[tuple[datetime, str, float]], start: datetime, n: int, step: timedelta
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for at, key, cost in points:
        arr = out.get(key)
        if arr is None:
            arr = out[key] = np.zeros(n)
        arr[int((at - start) / step)] += cost
    return out


def scan_series(
    points: dict[str, list[tuple[datetime, str, float]]], step: timedelta, params: dict[str, float]
) -> list[Anomaly]:
    """Anomalies of every series of every dimension; points are (period start, key, cost)."""
    every = [at for pts in points.values() for at, _, _ in pts]
    if not every:
        return []
    # the model learns from at most `max_history` periods before the window (DEFAULTS: half a
    # year of days, four weeks of hours): a log with one record dated 1970 must not make a
    # series of half a million hours
    end = max(every)
    start = min(every)
    if params.get("max_history"):
        with contextlib.suppress(OverflowError):  # before year 1: nothing to cut
            start = max(start, end - step * (int(params["max_history"]) + int(params["window"]) - 1))
    points = {dim: [p for p in pts if p[0] >= start] for dim, pts in points.items()}
    n = int((end - start) / step) + 1
    found: list[Anomaly] = []
    for dimension, pts in points.items():
        for key, values in sorted(_dense(pts, start, n, step).items()):
            found += detect(values, start, step, dimension, key, params)
    return sorted(found, key=lambda a: (-a.excess, a.dimension, a.value))


def billing_anomalies(rows: list[Any], params: dict[str, float]) -> list[Anomaly]:
    """Daily usage spend by owner and by service (recurring and one-time charges left out: a fee
    on the 1st of the month is expected, not an anomaly)."""
    from aifinops_cli.forecasting.charges import USAGE

    usage = [r for r in rows if r.kind == USAGE]
    at = lambda d: datetime(d.year, d.month, d.day)  # noqa: E731
    return scan_series(
        {
            "owner": [(at(r.day), r.owner, r.cost) for r in usage],
            "service": [(at(r.day), r.service, r.cost) for r in usage],
        },
        timedelta(days=1),
        params,
    )


def llm_anomalies(rows: list[Any], params: dict[str, float]) -> list[Anomaly]:
    """Hourly LLM spend by team, app and model."""
    return scan_series(
        {
            "team": [(r.at, r.team, r.cost) for r in rows],
            "app": [(r.at, r.app, r.cost) for r in rows],
            "model": [(r.at, r.model, r.cost) for r in rows],
        },
        timedelta(hours=1),
        params,
    )
