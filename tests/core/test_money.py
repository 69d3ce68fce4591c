"""The one money formatter (core/money.py): every report, command and evidence line writes
dollars through it, so these strings are what every format shows."""

from __future__ import annotations

import pytest

from aifinops_cli.core.money import money, signed_usd, usd


@pytest.mark.parametrize(
    ("amount", "places", "text"),
    [
        (0.0, 2, "$0.00"),
        (1234.5, 2, "$1,234.50"),  # thousands grouped, two cents
        (1234567.891, 2, "$1,234,567.89"),  # 1,234,567.891 rounds to .89
        (0.00027, 4, "$0.0003"),  # per-request evidence keeps 4 places: 0.00027 -> 0.0003
        (1500.0, 4, "$1,500.0000"),
        (None, 2, "n/a"),  # a previous run's figure the report does not have
    ],
)
def test_usd(amount, places, text):
    assert usd(amount, places) == text


@pytest.mark.parametrize(
    ("amount", "kwargs", "text"),
    [
        (3.0, {}, "+$3.00"),
        (-1234.5, {}, "-$1,234.50"),
        (0.0, {}, "±$0.00"),  # no change is neither a rise nor a fall
        (0.0, {"zero": "+"}, "+$0.00"),  # the terminal headline calls 0 "+"
        (-2.5, {"zero": "+", "symbol": ""}, "-2.50"),  # the HTML "Changed" row: a bare signed figure
        (2.5, {"zero": "+", "symbol": ""}, "+2.50"),
    ],
)
def test_signed_usd(amount, kwargs, text):
    assert signed_usd(amount, **kwargs) == text


def test_money_never_shows_an_unknown_price_as_zero():
    assert money(9344.0) == "$9,344.00"
    assert money(12.5, unpriced=True) == "$12.50 + unpriced"  # the known part, and a marker
    assert money(0.0, unpriced=True) == "unpriced"


def test_signed_usd_matches_the_format_it_replaced():
    """The markdown/history `signed()` it replaced, for a spread of amounts (byte-for-byte)."""
    for x in (-1e6, -1234.567, -0.004, 0.0, 0.004, 0.5, 99.995, 1234.5):
        old = f"{'+' if x > 0 else '-' if x < 0 else '±'}${abs(x):,.2f}"
        assert signed_usd(x) == old


def test_one_month_for_gpu_hours_llm_run_rates_and_billing_periods():
    """A month is the clouds' 730 hours everywhere: LLM run-rates scale by 730 / 24 = 30.4167 days
    (it was 30.4375, a 730.5-hour month, 0.07% more than the GPU-hour month beside it)."""
    from aifinops_cli.core.models import DAYS_PER_MONTH, HOURS_PER_MONTH
    from aifinops_cli.scanners.llm.analysis import Window

    assert HOURS_PER_MONTH == 730.0
    assert DAYS_PER_MONTH == 730 / 24 == pytest.approx(30.416667)
    # a log spanning 4 days: x30.4167 / 4 = 7.6042 for a month
    assert Window(None, None, 4.0).factor == pytest.approx(30.416667 / 4)
    # a billing export of 73 days (2026-01-05 .. 2026-03-18) covers 73 / 30.4167 = 2.4 months
    from datetime import date

    from aifinops_cli.scanners.billing.analyze import TableFacts

    facts = TableFacts("f", "focus", first_date=date(2026, 1, 5), last_date=date(2026, 3, 18))
    assert facts.days == 73 and facts.months_covered == pytest.approx(2.4)
