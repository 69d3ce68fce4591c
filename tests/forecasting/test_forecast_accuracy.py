"""The ±10% target: four generated bills, three months of history, the next month held out.

Series (fixed seed, Jan 1 - Mar 31 2025 as history, April held out):
- steady: $1,000/day with a weekday pattern and 5% noise, plus a $3,000 support fee billed on
  the 1st of every month (a recurring charge, projected as one, not smeared into the days);
- growth: $1,000/day growing by $10 a day;
- step: $1,000/day, +50% from March 17 (two weeks before the cut);
- noise: $1,000/day median with daily lognormal noise, sigma 0.4.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from aifinops_cli.forecasting.charges import RECURRING, USAGE, DailyCharge
from aifinops_cli.forecasting.plan import forecast_groups

START, CUT, DAYS, HOLD = date(2025, 1, 1), date(2025, 3, 31), 90, 30
WEEK = np.array([1.1, 1.1, 1.05, 1.05, 1.0, 0.85, 0.85])
FEE = 3000.0


def series(kind: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS + HOLD)
    week = WEEK[t % 7]
    if kind == "steady":
        return 1000.0 * week * np.exp(rng.normal(0, 0.05, t.size))
    if kind == "growth":
        return (1000.0 + 10.0 * t) * week * np.exp(rng.normal(0, 0.05, t.size))
    if kind == "step":
        step_day = (date(2025, 3, 17) - START).days
        return 1000.0 * np.where(t >= step_day, 1.5, 1.0) * week * np.exp(rng.normal(0, 0.05, t.size))
    return 1000.0 * np.exp(rng.normal(0, 0.4, t.size))


def rows(kind: str, y: np.ndarray) -> list[DailyCharge]:
    out = [
        DailyCharge(START + timedelta(days=i), kind, "svc", USAGE, float(v)) for i, v in enumerate(y[:DAYS])
    ]
    if kind == "steady":
        out += [DailyCharge(date(2025, mo, 1), kind, "svc", RECURRING, FEE) for mo in (1, 2, 3)]
    return out


def held_out(kind: str, y: np.ndarray) -> float:
    return float(y[DAYS:].sum()) + (FEE if kind == "steady" else 0.0)  # April's fee on April 1


@pytest.mark.parametrize("kind", ["steady", "growth", "step", "noise"])
def test_next_month_within_ten_percent(kind: str) -> None:
    y = series(kind, seed=7)
    total = forecast_groups(rows(kind, y), workers=1)[0]
    assert total.as_of == CUT and total.history_days == DAYS
    nm = total.next_month
    assert nm is not None
    actual = held_out(kind, y)
    err = (nm.point - actual) / actual * 100
    print(
        f"{kind}: forecast {nm.point:,.0f} actual {actual:,.0f} error {err:+.1f}% "
        f"P10-P90 {nm.lo:,.0f}-{nm.hi:,.0f} backtest error {nm.mape_pct:.1f}%"
    )
    assert abs(err) <= 10.0
    assert nm.lo <= actual <= nm.hi
    assert len(nm.backtests) >= 3  # rolling origins at the 30-day horizon
    if kind == "steady":
        # the fee is forecast as what it is: exactly one $3,000 charge, on April 1
        assert total.recurring_next_month == pytest.approx(FEE)
        assert total.month_end is not None and total.month_end.point == pytest.approx(total.month_to_date)


def test_interval_coverage_over_seeds() -> None:
    """The held-out month falls inside the printed P10-P90 at least 80% of the time."""
    inside = within = n = 0
    for kind in ("steady", "growth", "step", "noise"):
        for seed in range(8):
            y = series(kind, seed)
            nm = forecast_groups(rows(kind, y), workers=1)[0].next_month
            assert nm is not None
            actual = held_out(kind, y)
            n += 1
            inside += nm.lo <= actual <= nm.hi
            within += abs(nm.point - actual) <= 0.10 * actual
    print(f"coverage {inside}/{n}, within ±10% {within}/{n}")
    assert inside / n >= 0.8
