"""`aifinops forecast --demo`: a FOCUS 1.0 export of 137 days ending on the last day of the demo's
window (`demo.demo_window`), written to a temporary file and read back through the same reader as
a real export.

Its last 30 days are the scan demo's own billing export (`demo/billing.py`), summed by day,
service and team: the forecast and `scan --demo` tell the same month. The 107 days before are
that month's daily level per service and team, run backwards: ml-research (SageMaker training and
its GPU box) growing 0.5% a day; Bedrock a third lower before a step 45 days before the window
ends; the rest steady with noise. The window holds the export's 5x SageMaker spike on two days a
week before its end (billing.SPIKE_DAYS): an anomaly, over. A $1,500 Business Support fee is billed
on the 1st of every month (ChargeFrequency Recurring) and a $12,000 one-time Savings Plan purchase
50 days before the window ends.
"""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

COLUMNS = (
    "BilledCost",
    "BillingCurrency",
    "ChargeCategory",
    "ChargeFrequency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ProviderName",
    "ServiceName",
    "SubAccountId",
    "Tags",
)
HISTORY_DAYS = 137
BEDROCK_STEP_DAYS_BEFORE_END = 45
SAVINGS_PLAN_DAYS_BEFORE_END = 50


def window_days(now: datetime | None = None) -> tuple[date, date]:
    """The first and last day of the scan demo's window."""
    from aifinops_cli.demo import demo_window

    start, end = demo_window(now)
    return start.date(), (end - timedelta(days=1)).date()


def spike_days(now: datetime | None = None) -> tuple[date, ...]:
    from aifinops_cli.demo.billing import SPIKE_DAYS

    first, _ = window_days(now)
    return tuple(first + timedelta(days=n) for n in SPIKE_DAYS)


def _window_totals(now: datetime | None) -> dict[tuple[date, str, str], float]:
    """The scan demo's FOCUS export over its window (not the days before it holds), summed by
    (day, service, team)."""
    from aifinops_cli.demo import demo_inputs
    from aifinops_cli.demo.billing import demo_billing_paths

    first, last = window_days(now)
    focus = demo_billing_paths(demo_inputs(now) / "billing")[0]
    out: dict[tuple[date, str, str], float] = defaultdict(float)
    with open(focus, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            tags = json.loads(row["Tags"]) if row["Tags"] not in ("", "NULL") else {}
            day = datetime.strptime(row["ChargePeriodStart"][:10], "%Y-%m-%d").date()
            if first <= day <= last:
                out[(day, row["ServiceName"], tags.get("team", ""))] += float(row["BilledCost"])
    return out


def rows(now: datetime | None = None) -> list[dict[str, str]]:
    rng = random.Random(20251015)
    first, last = window_days(now)
    start = last - timedelta(days=HISTORY_DAYS - 1)
    out: list[dict[str, str]] = []

    def add(
        d: date, cost: float, service: str, team: str, category: str = "Usage", freq: str = "Usage-Based"
    ) -> None:
        out.append(
            {
                "BilledCost": f"{cost:.4f}",
                "BillingCurrency": "USD",
                "ChargeCategory": category,
                "ChargeFrequency": freq,
                "ChargePeriodStart": f"{d.isoformat()} 00:00:00",
                "ChargePeriodEnd": f"{(d + timedelta(days=1)).isoformat()} 00:00:00",
                "ProviderName": "AWS",
                "ServiceName": service,
                "SubAccountId": "111122223333",
                "Tags": json.dumps({"team": team} if team else {}),
            }
        )

    recent = _window_totals(now)
    daily: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (_, service, team), cost in recent.items():
        daily[(service, team)].append(cost)
    level = {key: statistics.median(values) for key, values in daily.items()}  # not the spike
    step = last - timedelta(days=BEDROCK_STEP_DAYS_BEFORE_END)
    for i in range((first - start).days):
        d = start + timedelta(days=i)
        back = (first - d).days  # days before the window
        for (service, team), typical in sorted(level.items()):
            cost = typical * math.exp(rng.gauss(0.0, 0.06))
            if team == "ml-research":
                cost *= 1.005**-back
            if service == "Amazon Bedrock" and d < step:
                cost *= 2 / 3
            add(d, cost, service, team)
    for (d, service, team), cost in sorted(recent.items()):
        add(d, cost, service, team)
    for i in range(HISTORY_DAYS):
        d = start + timedelta(days=i)
        if d.day == 1:
            add(d, 1500.0, "AWS Support (Business)", "platform", "Purchase", "Recurring")
        if d == last - timedelta(days=SAVINGS_PLAN_DAYS_BEFORE_END):
            add(d, 12000.0, "Savings Plans for AWS Compute usage", "platform", "Purchase", "One-Time")
    out.sort(key=lambda r: (r["ChargePeriodStart"], r["ServiceName"], r["Tags"]))
    return out


def write(directory: Path, now: datetime | None = None) -> Path:
    path = directory / "focus_forecast_demo.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows(now))
    return path
