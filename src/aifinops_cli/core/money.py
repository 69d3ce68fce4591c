"""Dollar amounts as text: the one formatter every report, command and evidence line uses.

In core because the output formats, the CLI commands and the scanners' evidence all write
dollars, and core is the layer each of them may import. Every variant groups thousands
(`$1,234.50`); amounts stay floats in the JSON, only their text lives here.
"""

from __future__ import annotations

NONE = "n/a"
"""What a missing amount reads as (a previous run's figure a report does not have)."""


def usd(amount: float | None, places: int = 2) -> str:
    """`$1,234.50`; `places=4` for per-request evidence where cents round a cost away."""
    return NONE if amount is None else f"${amount:,.{places}f}"


def signed_usd(amount: float, zero: str = "±", symbol: str = "$") -> str:
    """A change: `+$3.00`, `-$3.00`, `±$0.00` (`zero="+"` for a headline that calls 0 no rise).

    `symbol=""` is the bare signed figure a table column headed "Monthly waste" already names."""
    sign = "+" if amount > 0 else "-" if amount < 0 else zero
    return f"{sign}{symbol}{abs(amount):,.2f}"


def money(amount: float, unpriced: bool = False) -> str:
    """A finding's dollar figure as every format shows it: an unknown price is never "$0"."""
    if not unpriced:
        return usd(amount)
    return f"{usd(amount)} + unpriced" if amount else "unpriced"
