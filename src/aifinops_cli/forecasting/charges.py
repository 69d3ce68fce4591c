"""What a forecast is made of: daily charges by owner, service and kind of charge.

Usage is forecast by the model; recurring charges are projected as what they are (the same
amount on the same day of the month, or at their last daily rate); one-time charges are not
carried forward. Providers turn their own data into these rows (scanners/billing/series.py
reads billing exports; scanners/llm/series.py request logs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

USAGE, RECURRING, ONE_TIME, FEE = "usage", "recurring", "one-time", "fee"


@dataclass(frozen=True)
class DailyCharge:
    day: date
    owner: str
    service: str
    kind: str  # usage | recurring | one-time
    cost: float


def resolve_fees(rows: list[DailyCharge]) -> list[DailyCharge]:
    """A CUR `Fee` billed in two or more months for the same owner and service is recurring;
    one seen in a single month is one-time (an upfront reservation fee)."""
    months: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
    for r in rows:
        if r.kind == FEE:
            months[(r.owner, r.service)].add((r.day.year, r.day.month))
    out = []
    for r in rows:
        if r.kind == FEE:
            kind = RECURRING if len(months[(r.owner, r.service)]) >= 2 else ONE_TIME
            r = DailyCharge(r.day, r.owner, r.service, kind, r.cost)
        out.append(r)
    return out
