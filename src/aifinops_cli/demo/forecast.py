"""`aifinops forecast --demo`: a deterministic FOCUS 1.0 export of 137 days (Jun 1 - Oct 15, 2025),
written to a temporary file and read back through the same reader as a real export.

Teams: ml-research (SageMaker training, growing 0.5% a day, with a 5x spike on Oct 9 and 10: an
anomaly, over), search (EC2, a steady weekday pattern), support (Bedrock,
+50% from Sep 15), untagged S3; a $1,500 Business Support fee billed on the 1st of every month
(ChargeFrequency Recurring) and a $12,000 one-time Savings Plan purchase on Sep 10.
"""

from __future__ import annotations

import csv
import json
import math
import random
from datetime import date, timedelta
from pathlib import Path

DEMO_START, DEMO_END = date(2025, 6, 1), date(2025, 10, 15)
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
WEEKDAY = (1.1, 1.1, 1.05, 1.05, 1.0, 0.8, 0.8)


def rows() -> list[dict[str, str]]:
    rng = random.Random(20251015)
    out: list[dict[str, str]] = []

    def add(
        d: date,
        cost: float,
        service: str,
        team: str | None,
        category: str = "Usage",
        freq: str = "Usage-Based",
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

    n = (DEMO_END - DEMO_START).days + 1
    for i in range(n):
        d = DEMO_START + timedelta(days=i)
        w = WEEKDAY[d.weekday()]
        noise = lambda s: math.exp(rng.gauss(0.0, s))  # noqa: E731
        spike = 5.0 if d in (date(2025, 10, 9), date(2025, 10, 10)) else 1.0
        add(d, 500.0 * 1.005**i * w * noise(0.08) * spike, "Amazon SageMaker", "ml-research")
        add(d, 450.0 * w * noise(0.05), "Amazon Elastic Compute Cloud", "search")
        add(d, 120.0 * (1.5 if d >= date(2025, 9, 15) else 1.0) * w * noise(0.1), "Amazon Bedrock", "support")
        add(d, 60.0 * noise(0.03), "Amazon Simple Storage Service", None)
        if d.day == 1:
            add(d, 1500.0, "AWS Support (Business)", "platform", "Purchase", "Recurring")
        if d == date(2025, 9, 10):
            add(d, 12000.0, "Savings Plans for AWS Compute usage", "platform", "Purchase", "One-Time")
    return out


def write(directory: Path) -> Path:
    path = directory / "focus_forecast_demo.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows())
    return path
