"""Month-end and next-month forecasts per owner and service (or per model and app for LLM spend).

Each group's usage is a dense daily series fitted by `model.forecast`; its recurring charges
are projected by `project_recurring`, and both are replayed from the same rolling origins, so
the printed error and interval are those of what is printed. The horizon is the one printed:
month end (the rest of this month) and next month (its calendar days after that).
"""

from __future__ import annotations

import calendar
import contextlib
import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from aifinops_cli.forecasting import model as m
from aifinops_cli.forecasting.charges import ONE_TIME, RECURRING, DailyCharge

MAX_ERROR_PCT = 10.0  # the target: above this backtest error a forecast is marked unreliable
PARALLEL_MIN_GROUPS = 64  # below this a process pool costs more than it saves


@dataclass
class GroupForecast:
    owner: str
    service: str
    as_of: date
    history_days: int
    month_to_date: float
    recurring_month_to_date: float = 0.0
    one_time_month_to_date: float = 0.0
    month_end: m.Result | None = None
    next_month: m.Result | None = None
    recurring_month_end: float = 0.0  # recurring charges inside month_end / next_month
    recurring_next_month: float = 0.0
    model: str = ""
    status: str = "ok"  # ok | unreliable | cannot forecast
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        r = lambda x: None if x is None else round(x, 2)  # noqa: E731

        def res(x: m.Result | None) -> dict[str, Any] | None:
            if x is None:
                return None
            return {
                "forecast": r(x.point),
                "p10": r(x.lo),
                "p90": r(x.hi),
                "error_pct": r(x.mape_pct),
                "backtests": [
                    {
                        "origin": (self.as_of - timedelta(days=self.history_days - t.origin - 1)).isoformat(),
                        "forecast": r(t.forecast),
                        "actual": r(t.actual),
                    }
                    for t in x.backtests
                ],
            }

        return {
            "owner": self.owner,
            "service": self.service,
            "as_of": self.as_of.isoformat(),
            "history_days": self.history_days,
            "model": self.model,
            "month_to_date": r(self.month_to_date),
            "recurring_month_to_date": r(self.recurring_month_to_date),
            "one_time_month_to_date": r(self.one_time_month_to_date),
            "month_end": res(self.month_end),
            "next_month": res(self.next_month),
            "recurring_in_month_end": r(self.recurring_month_end),
            "recurring_in_next_month": r(self.recurring_next_month),
            "status": self.status,
            "reason": self.reason,
        }


def month_bounds(as_of: date) -> tuple[int, int]:
    """(days left in as_of's month after as_of, days in next month)."""
    dim = calendar.monthrange(as_of.year, as_of.month)[1]
    nxt = date(as_of.year, as_of.month, 1) + timedelta(days=32)
    return dim - as_of.day, calendar.monthrange(nxt.year, nxt.month)[1]


def project_recurring(charges: list[tuple[date, float]], as_of: date, start: date, end: date) -> float:
    """Recurring charges expected in [start, end] (all after as_of), from those up to as_of.

    Monthly cadence (on at most 3 days a month, e.g. an RI fee on the 1st): the last complete
    month's charges repeat on the same days of the month (the 31st falls on a short month's
    last day), with this month's amount where this month has already billed that day (a price
    change shows at once). Daily or hourly cadence (a Savings Plan commitment billed every
    hour): the last 7 days' average per day.
    """
    past = [(d, v) for d, v in charges if d <= as_of]
    if not past or end < start:
        return 0.0
    by_month: dict[tuple[int, int], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for d, v in past:
        by_month[(d.year, d.month)][d.day] += v
    days_per_month = sum(len(days) for days in by_month.values()) / len(by_month)
    if days_per_month > 3:
        week = [v for d, v in past if d > as_of - timedelta(days=7)]
        return sum(week) / 7.0 * ((end - start).days + 1)
    current = (as_of.year, as_of.month)
    complete = as_of.day == calendar.monthrange(as_of.year, as_of.month)[1]
    done = [k for k in by_month if k < current or complete]
    template = dict(by_month[max(done)]) if done else {}
    if not complete:
        template.update(by_month.get(current, {}))
    total, month = 0.0, date(start.year, start.month, 1)
    while month <= end:
        dim = calendar.monthrange(month.year, month.month)[1]
        for day, v in template.items():
            when = month.replace(day=min(day, dim))
            if start <= when <= end and when > as_of:
                total += v
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return total


def forecast_one(
    owner: str,
    service: str,
    start: date,
    as_of: date,
    usage: np.ndarray,
    recurring: list[tuple[date, float]],
    one_time_mtd: float,
    max_error_pct: float = MAX_ERROR_PCT,
) -> GroupForecast:
    """One group's forecast; module-level (not a closure) so a process pool can run it."""
    month_start = as_of.replace(day=1)
    i_month = max(0, (month_start - start).days)
    rec_mtd = sum(v for d, v in recurring if month_start <= d <= as_of)
    mtd = float(usage[i_month:].sum()) + rec_mtd + one_time_mtd
    g = GroupForecast(owner, service, as_of, len(usage), mtd, rec_mtd, one_time_mtd)
    if not usage.any() and not recurring:
        g.reason = "one-time charges only: not carried forward"
        return g
    if len(usage) < m.MIN_DAYS:
        g.status, g.reason = "cannot forecast", f"only {len(usage)} days of history (need {m.MIN_DAYS})"
        return g
    left, nxt = month_bounds(as_of)
    horizons = [m.Horizon("month_end", 0, left, known=mtd), m.Horizon("next_month", left, left + nxt)]
    rec_actual: dict[date, float] = defaultdict(float)
    for d, v in recurring:
        rec_actual[d] += v

    def extra(origin: int, h: m.Horizon) -> tuple[float, float]:
        cut = start + timedelta(days=origin - 1)  # last day the origin knew
        a, b = cut + timedelta(days=h.a + 1), cut + timedelta(days=h.b)
        projected = project_recurring(recurring, cut, a, b)
        actual = sum(v for d, v in rec_actual.items() if a <= d <= b)
        return projected, actual

    fit, (me, nm) = m.forecast(usage, horizons, extra=extra if recurring else None)
    g.month_end, g.next_month, g.model = me, nm, fit.model
    end_me = as_of + timedelta(days=left)
    g.recurring_month_end = project_recurring(recurring, as_of, as_of + timedelta(days=1), end_me)
    g.recurring_next_month = project_recurring(
        recurring, as_of, end_me + timedelta(days=1), end_me + timedelta(days=nxt)
    )
    err = nm.mape_pct
    if err is None:
        g.status, g.reason = "unreliable", "too little history to backtest next month (needs about 2 months)"
    elif err > max_error_pct:
        g.status, g.reason = "unreliable", f"backtest error {err:.1f}% > {max_error_pct:g}%"
    elif not nm.lo <= nm.point <= nm.hi:
        g.status = "unreliable"
    return g


def _group_key(by: str, owner: str, service: str) -> tuple[str, str]:
    return (
        owner if by in ("owner", "owner-service") else "*",
        service if by in ("service", "owner-service") else "*",
    )


def forecast_groups(
    rows: Iterable[DailyCharge],
    by: str = "owner-service",
    as_of: date | None = None,
    max_error_pct: float = MAX_ERROR_PCT,
    workers: int | None = None,
) -> list[GroupForecast]:
    """The total first, then each group by forecast next month, largest first."""
    rows = list(rows)
    if not rows:
        return []
    as_of = as_of or max(r.day for r in rows)
    rows = [r for r in rows if r.day <= as_of]
    groups: dict[tuple[str, str], list[DailyCharge]] = defaultdict(list)
    for r in rows:
        groups[_group_key(by, r.owner, r.service)].append(r)
    jobs = [_job("(all)", "(all)", rows, as_of, max_error_pct)]
    jobs += [_job(o, s, rs, as_of, max_error_pct) for (o, s), rs in sorted(groups.items())]
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers > 1 and len(jobs) >= PARALLEL_MIN_GROUPS:
        with contextlib.suppress(m.ForecastUnavailable):  # raised again, in a worker, if so
            m.load_model()  # imported once here: forked workers inherit it (~2 s CPU each otherwise)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            out = list(pool.map(_run, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    else:
        out = [_run(j) for j in jobs]
    total, rest = out[0], out[1:]
    rest.sort(key=lambda g: (-(g.next_month.point if g.next_month else g.month_to_date), g.owner, g.service))
    return [total, *rest]


def _job(
    owner: str, service: str, rows: list[DailyCharge], as_of: date, max_error_pct: float
) -> tuple[Any, ...]:
    start = min(r.day for r in rows)
    usage = np.zeros((as_of - start).days + 1)
    recurring: dict[date, float] = defaultdict(float)
    one_time = 0.0
    month_start = as_of.replace(day=1)
    for r in rows:
        if r.kind == RECURRING:
            recurring[r.day] += r.cost
        elif r.kind == ONE_TIME:
            one_time += r.cost if r.day >= month_start else 0.0
        else:
            usage[(r.day - start).days] += r.cost
    return (owner, service, start, as_of, usage, sorted(recurring.items()), one_time, max_error_pct)


def _run(job: tuple[Any, ...]) -> GroupForecast:
    return forecast_one(*job)
