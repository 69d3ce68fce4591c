"""The one money formatter (core/money.py): every report, command and evidence line writes
dollars through it, so these strings are what every format shows."""

from __future__ import annotations

import pytest

from aifinops_cli.core.money import money, signed_usd, usd


@pytest.mark.parametrize(("amount", "places", "text"), [
    (0.0, 2, "$0.00"),
    (1234.5, 2, "$1,234.50"),          # thousands grouped, two cents
    (1234567.891, 2, "$1,234,567.89"),  # 1,234,567.891 rounds to .89
    (0.00027, 4, "$0.0003"),           # per-request evidence keeps 4 places: 0.00027 -> 0.0003
    (1500.0, 4, "$1,500.0000"),
    (None, 2, "n/a"),                  # a previous run's figure the report does not have
])
def test_usd(amount, places, text):
    assert usd(amount, places) == text


@pytest.mark.parametrize(("amount", "kwargs", "text"), [
    (3.0, {}, "+$3.00"),
    (-1234.5, {}, "-$1,234.50"),
    (0.0, {}, "±$0.00"),              # no change is neither a rise nor a fall
    (0.0, {"zero": "+"}, "+$0.00"),   # the terminal headline calls 0 "+"
    (-2.5, {"zero": "+", "symbol": ""}, "-2.50"),  # the HTML "Changed" row: a bare signed figure
    (2.5, {"zero": "+", "symbol": ""}, "+2.50"),
])
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
