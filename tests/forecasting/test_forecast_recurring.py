"""Recurring charges projected as what they are (hand-computed amounts)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from aifinops_cli.forecasting.plan import month_bounds, project_recurring


def test_monthly_fee_repeats_on_its_day_clipped_to_short_months() -> None:
    # a $300 RI fee on the 1st ($350 from March) and a $50 fee on the month's last day
    fees = [
        (date(2025, 1, 1), 300.0),
        (date(2025, 2, 1), 300.0),
        (date(2025, 3, 1), 350.0),
        (date(2025, 1, 31), 50.0),
        (date(2025, 2, 28), 50.0),
        (date(2025, 3, 31), 50.0),
    ]
    # as of Mar 31 (March complete), April: the 1st at March's 350 and the 31st on Apr 30, 50
    assert project_recurring(fees, date(2025, 3, 31), date(2025, 4, 1), date(2025, 4, 30)) == 400.0
    # as of Mar 15, the rest of March: February's fee of the 28th, 50 (March's 1st is past);
    # April: the 1st at this month's new 350 + the 28th 50 = 400
    assert project_recurring(fees, date(2025, 3, 15), date(2025, 3, 16), date(2025, 3, 31)) == 50.0
    assert project_recurring(fees, date(2025, 3, 15), date(2025, 4, 1), date(2025, 4, 30)) == 400.0


def test_hourly_commitment_fee_runs_at_its_last_week_rate() -> None:
    # a Savings Plan commitment billed every day: $24/day until Mar 24, $48/day from Mar 25
    fee = [(date(2025, 3, 1) + timedelta(days=i), 24.0 if i < 24 else 48.0) for i in range(31)]
    # last 7 days (Mar 25-31) average 48 -> April 30 x 48 = 1,440
    april = project_recurring(fee, date(2025, 3, 31), date(2025, 4, 1), date(2025, 4, 30))
    assert april == pytest.approx(1440.0)


def test_month_bounds() -> None:
    # Oct 15: 16 days left in October, 30 in November; Jan 31: 0 left, 28 in Feb 2025
    assert month_bounds(date(2025, 10, 15)) == (16, 30)
    assert month_bounds(date(2025, 1, 31)) == (0, 28)
    assert month_bounds(date(2024, 12, 31)) == (0, 31)
