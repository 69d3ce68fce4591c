"""Spend forecasts from the daily series in a bill, with their error measured on its own history.

Pure functions: a series is a list of (day, cost). The model is deliberately plain: the mean
daily spend of the last 14 days (two whole weeks, so weekday cycles cancel) carried forward.
What makes it useful is the backtest: the same model is replayed from earlier cut-offs in the
data and its mean absolute percentage error (MAPE) is reported beside every forecast, so a
reader sees how far to trust it. Series too short or too erratic are reported as such.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

WINDOW_DAYS = 14  # history averaged for the daily rate
MIN_HISTORY_DAYS = 14  # below this: cannot forecast
BACKTEST_WEEKS = 4  # weekly backtests when fewer than one whole month can be replayed
MAX_MAPE_PCT = 20.0  # above this the forecast is shown but marked unreliable


@dataclass
class Forecast:
    owner: str
    service: str
    as_of: date
    history_days: int
    month_to_date: float
    month_end: float | None
    next_month: float | None
    mape_pct: float | None
    backtests: list[dict[str, float | str]] = field(default_factory=list)
    status: str = "ok"  # ok | unreliable | cannot forecast
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        r = lambda x: None if x is None else round(x, 2)  # noqa: E731
        return {
            "owner": self.owner, "service": self.service, "as_of": self.as_of.isoformat(),
            "history_days": self.history_days, "month_to_date": r(self.month_to_date),
            "month_end": r(self.month_end), "next_month": r(self.next_month),
            "mape_pct": r(self.mape_pct), "status": self.status, "reason": self.reason,
            "backtests": self.backtests,
        }


def dense(points: Iterable[tuple[date, float]], start: date, end: date) -> list[float]:
    """Daily values from start to end inclusive; a day with no line items spent 0."""
    by_day: dict[date, float] = defaultdict(float)
    for d, v in points:
        by_day[d] += v
    return [by_day.get(start + timedelta(days=i), 0.0) for i in range((end - start).days + 1)]


def daily_rate(history: list[float], window: int = WINDOW_DAYS) -> float:
    tail = history[-window:]
    return sum(tail) / len(tail) if tail else 0.0


def _ape(forecast: float, actual: float) -> float | None:
    return None if actual == 0 else abs(forecast - actual) / abs(actual) * 100.0


def backtest(values: list[float], start: date) -> list[dict[str, float | str]]:
    """Replay the model from earlier cut-offs: whole months when the data holds one after at least
    MIN_HISTORY_DAYS of history, else the last BACKTEST_WEEKS weeks."""
    end = start + timedelta(days=len(values) - 1)
    out: list[dict[str, float | str]] = []
    # whole calendar months inside the data, each with enough history before it
    m = date(start.year, start.month, 1)
    while m <= end:
        last = date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])
        i0 = (m - start).days
        if i0 >= MIN_HISTORY_DAYS and last <= end:
            hist = values[:i0]
            actual = sum(values[i0:i0 + (last - m).days + 1])
            predicted = daily_rate(hist) * ((last - m).days + 1)
            out.append({"horizon": m.strftime("%Y-%m"), "forecast": round(predicted, 4),
                        "actual": round(actual, 4)})
        m = last + timedelta(days=1)
    if out:
        return out
    for k in range(BACKTEST_WEEKS, 0, -1):
        cut = len(values) - 7 * k
        if cut < MIN_HISTORY_DAYS:
            continue
        actual = sum(values[cut:cut + 7])
        predicted = daily_rate(values[:cut]) * 7
        out.append({"horizon": f"week from {(start + timedelta(days=cut)).isoformat()}",
                    "forecast": round(predicted, 4), "actual": round(actual, 4)})
    return out


def mape(tests: list[dict[str, float | str]]) -> float | None:
    errors = [e for t in tests if (e := _ape(float(t["forecast"]), float(t["actual"]))) is not None]
    return sum(errors) / len(errors) if errors else None


def forecast_series(points: Iterable[tuple[date, float]], as_of: date, owner: str = "",
                    service: str = "", max_mape_pct: float = MAX_MAPE_PCT) -> Forecast:
    """Month-end and next-month spend from one daily series, with its backtested MAPE."""
    pts = [(d, v) for d, v in points if d <= as_of]
    month_start = date(as_of.year, as_of.month, 1)
    mtd = sum(v for d, v in pts if d >= month_start)
    if not pts:
        return Forecast(owner, service, as_of, 0, mtd, None, None, None, status="cannot forecast",
                        reason="no spend in the data")
    start = min(d for d, _ in pts)
    values = dense(pts, start, as_of)
    f = Forecast(owner, service, as_of, len(values), mtd, None, None, None)
    if len(values) < MIN_HISTORY_DAYS:
        f.status = "cannot forecast"
        f.reason = f"only {len(values)} days of history (need {MIN_HISTORY_DAYS})"
        return f
    rate = daily_rate(values)
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    f.month_end = mtd + rate * (days_in_month - as_of.day)
    nxt = month_start.replace(day=28) + timedelta(days=4)
    f.next_month = rate * calendar.monthrange(nxt.year, nxt.month)[1]
    f.backtests = backtest(values, start)
    f.mape_pct = mape(f.backtests)
    if f.mape_pct is None:
        f.status, f.reason = "unreliable", "no history left to backtest on (needs 3+ weeks)"
    elif f.mape_pct > max_mape_pct:
        f.status, f.reason = "unreliable", f"erratic: backtest error {f.mape_pct:.0f}% > {max_mape_pct:.0f}%"
    return f


def forecast_groups(daily: Iterable[tuple[date, str, str, float]], by: str = "owner-service",
                    as_of: date | None = None, max_mape_pct: float = MAX_MAPE_PCT) -> list[Forecast]:
    """Forecasts per owner, per service, or per (owner, service), plus the total first."""
    rows = list(daily)
    if not rows:
        return []
    as_of = as_of or max(d for d, _, _, _ in rows)
    groups: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for d, owner, service, cost in rows:
        key = (owner if by in ("owner", "owner-service") else "*",
               service if by in ("service", "owner-service") else "*")
        groups[key].append((d, cost))
    total = forecast_series([(d, c) for d, _, _, c in rows], as_of, "(all)", "(all)", max_mape_pct)
    out = [forecast_series(pts, as_of, o, s, max_mape_pct) for (o, s), pts in groups.items()]
    out.sort(key=lambda f: (-(f.month_end if f.month_end is not None else f.month_to_date),
                            f.owner, f.service))
    return [total, *out]
