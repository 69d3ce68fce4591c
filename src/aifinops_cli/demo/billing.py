"""The billing part of the demo estate: a FOCUS 1.0 export and a legacy CUR extract for the demo's
window, written at demo time and scanned by the billing scanner like any local export.

The network and storage lines (a GPU training box reading across regions, a NAT gateway carrying
inference traffic, Frankfurt embeddings shipped to N. Virginia, ...) come from the two small
templates under `demo/data/billing/` (30 days each), re-dated to the window. On top of them come
the AI lines of a company spending about $150k a month with AWS on AI: an inference fleet, SageMaker
training, a training-data bucket, and the Bedrock lines, which are the demo's own Bedrock logs
(`llm.bedrock_daily`) priced per day: over the logs' window, the billing export's Bedrock total is
the LLM scanner's.

The FOCUS export also holds the 25 days before the window (HISTORY_DAYS), as a month's export
does: the network lines of the template's last 25 days and the logs' last 25 Bedrock days, a month
earlier, and the AI lines at their usual levels. 55 days are enough for `billing-spend-anomaly`
(28 days of history for the model and its 14-day window) to find the SageMaker spike; the CUR
extract stays the window's 30 days.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

from aifinops_cli.demo.llm import BedrockDay

TEMPLATE_START = date(2025, 6, 1)  # the first day of both templates
ACCOUNT = "111122223333"
FOCUS_NAME, CUR_NAME = "focus_demo.csv", "cur_demo.csv.gz"

# (resource, team, usage type, description, $ per unit, unit, region, service, category, daily units)
# Daily units cycle through five levels around the mean (the mean over 30 days is exact).
AI_LINES = tuple(
    (
        f"i-0demo0infer{k:02d}",
        "inference" if k <= 10 else "",  # four were launched by hand during an incident, untagged
        "USE1-BoxUsage:g5.12xlarge",
        "$5.672 per On Demand Linux g5.12xlarge Instance Hour",
        5.672,
        "Hours",
        "us-east-1",
        "Amazon Elastic Compute Cloud",
        "Compute",
        24.0,
    )
    for k in range(1, 15)
) + (
    (
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/llm-pretrain",
        "ml-research",
        "USE1-Train:ml.p4d.24xlarge",
        "$37.688 per hour for ml.p4d.24xlarge training",
        37.688,
        "Hours",
        "us-east-1",
        "Amazon SageMaker",
        "AI and Machine Learning",
        32.0,
    ),
    (
        "demo-training-data",
        "ml-research",
        "USE1-TimedStorage-ByteHrs",
        "$0.023 per GB-month of storage used in Standard storage",
        0.023,
        "GB-Mo",
        "us-east-1",
        "Amazon Simple Storage Service",
        "Storage",
        95000.0 / 30,
    ),
)
# Not AI: the web team's app server in Oregon ships its nightly database dumps and logs to the
# backup bucket in N. Virginia, 250 GB a day at $0.02/GB (billing-inter-region-egress; the AI
# egress rule claims the ML flows of the templates)
OTHER_LINES = (
    (
        "i-0demo0web01",
        "web",
        "USW2-USE1-AWS-Out-Bytes",
        "$0.02 per GB - US West (Oregon) data transfer to US East (Northern Virginia)",
        0.02,
        "GB",
        "us-west-2",
        "Amazon Elastic Compute Cloud",
        "Networking",
        250.0,
    ),
)
WAVE = (0.9, 0.95, 1.0, 1.05, 1.1)  # five days' levels, mean 1.0
# days of FOCUS export before the window: 25 + 30 = 55 days is 11 whole waves (the mean stays
# exact) and never two whole calendar months (59 days at least), so a month is always 55/30.4375
HISTORY_DAYS = 25
MONTH_EARLIER = timedelta(days=30)  # history day d repeats the template's and the logs' day d + 30
# a training run relaunched in a loop: five times the usual SageMaker hours on two days of the
# window (the days after are back to normal; `aifinops forecast --demo` finds it as an anomaly)
SPIKE_LINE, SPIKE_DAYS, SPIKE_FACTOR = "USE1-Train:ml.p4d.24xlarge", (23, 24), 5.0


def _template(name: str) -> str:
    path = resources.files("aifinops_cli.demo") / "data" / "billing" / name
    raw = path.read_bytes()
    return gzip.decompress(raw).decode() if name.endswith(".gz") else raw.decode()


def _shift(text: str, days: int, fmt: str) -> str:
    when = datetime.strptime(text, fmt) + timedelta(days=days)
    return when.strftime(fmt)


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def _focus_row(day: date, cost: float, qty: float, **cols: str) -> dict[str, str]:
    first, nxt = _month(day)
    row = {
        "BilledCost": f"{cost:.6f}",
        "BillingAccountId": ACCOUNT,
        "BillingCurrency": "USD",
        "BillingPeriodEnd": f"{nxt} 00:00:00",
        "BillingPeriodStart": f"{first} 00:00:00",
        "ChargeCategory": "Usage",
        "ChargePeriodEnd": f"{day + timedelta(days=1)} 00:00:00",
        "ChargePeriodStart": f"{day} 00:00:00",
        "ConsumedQuantity": f"{qty:.6f}",
        "EffectiveCost": f"{cost:.6f}",
        "ListCost": f"{cost:.6f}",
        "PricingQuantity": f"{qty:.6f}",
        "ProviderName": "AWS",
        "SubAccountId": ACCOUNT,
    }
    row.update(cols)
    return row


def write_billing(root: Path, start: date, bedrock: list[BedrockDay]) -> list[str]:
    """Write the FOCUS export (the 30 days from `start` and the HISTORY_DAYS before) and the CUR
    extract (the 30 days); return their paths."""
    root.mkdir(parents=True, exist_ok=True)
    offset = (start - TEMPLATE_START).days
    fmt = "%Y-%m-%d %H:%M:%S"
    reader = csv.DictReader(io.StringIO(_template(FOCUS_NAME)))
    columns = list(reader.fieldnames or [])
    history_from = start - timedelta(days=HISTORY_DAYS)
    rows = []
    for template_row in reader:
        if template_row["ServiceName"] == "Amazon Bedrock":
            continue  # the Bedrock lines are the logs' own (below)
        for shift in (offset, offset - MONTH_EARLIER.days):
            row = dict(template_row)
            for col in ("ChargePeriodStart", "ChargePeriodEnd"):
                row[col] = _shift(row[col], shift, fmt)
            day = datetime.strptime(row["ChargePeriodStart"], fmt).date()
            if day < history_from:
                continue
            first, nxt = _month(day)
            row["BillingPeriodStart"], row["BillingPeriodEnd"] = f"{first} 00:00:00", f"{nxt} 00:00:00"
            rows.append(row)
    for i in range(-HISTORY_DAYS, 30):
        day = start + timedelta(days=i)
        for res, team, usage, desc, price, unit, region, service, category, daily in AI_LINES + OTHER_LINES:
            qty = daily * WAVE[(i * 2 + len(res)) % 5]
            if usage == SPIKE_LINE and i in SPIKE_DAYS:
                qty *= SPIKE_FACTOR
            rows.append(
                _focus_row(
                    day,
                    qty * price,
                    qty,
                    ChargeDescription=desc,
                    ConsumedUnit=unit,
                    PricingUnit=unit,
                    RegionId=region,
                    ResourceId=res,
                    ServiceCategory=category,
                    ServiceName=service,
                    Tags=json.dumps({"team": team}) if team else "NULL",
                    x_UsageType=usage,
                )
            )
    history = [
        dataclasses.replace(b, day=b.day - MONTH_EARLIER)
        for b in bedrock
        if b.day.date() - MONTH_EARLIER >= history_from
    ]
    for b in history + bedrock:
        name = b.model.split(".")[-1].split("-2025")[
            0
        ]  # us.anthropic.claude-haiku-4-5-2025... -> claude-haiku-4-5
        for kind, tokens, cost in (
            ("input", b.input_tokens, b.input_usd),
            ("output", b.output_tokens, b.output_usd),
        ):
            rows.append(
                _focus_row(
                    b.day.date(),
                    cost,
                    tokens / 1000,
                    ChargeDescription=f"Bedrock {name} {kind} tokens (cross-region inference)",
                    ConsumedUnit="1K tokens",
                    PricingUnit="1K tokens",
                    RegionId="us-east-1",
                    ResourceId="NULL",
                    ServiceCategory="AI and Machine Learning",
                    ServiceName="Amazon Bedrock",
                    Tags=json.dumps({"team": b.owner}) if b.owner else "NULL",
                    x_UsageType=f"USE1-{name}-{kind}-tokens",
                )
            )
    rows.sort(key=lambda r: (r["ChargePeriodStart"], r["ServiceName"], r["ResourceId"], r["x_UsageType"]))
    focus = root / FOCUS_NAME
    with focus.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    cur_reader = csv.DictReader(io.StringIO(_template(CUR_NAME)))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(cur_reader.fieldnames or []), lineterminator="\n")
    w.writeheader()
    for row in cur_reader:
        usage_day = _shift(row["lineItem/UsageStartDate"], offset, "%Y-%m-%dT%H:%M:%SZ")
        row["lineItem/UsageStartDate"] = usage_day
        first, _ = _month(datetime.strptime(usage_day, "%Y-%m-%dT%H:%M:%SZ").date())
        row["bill/BillingPeriodStartDate"] = f"{first}T00:00:00Z"
        w.writerow(row)
    cur = root / CUR_NAME
    with gzip.GzipFile(cur, "wb", mtime=0) as fh:
        fh.write(buf.getvalue().encode())
    return [str(focus), str(cur)]


def demo_billing_paths(root: Path) -> list[str]:
    """The demo's FOCUS export and CUR extract under `root` (each path is passed to --billing)."""
    return [str(root / FOCUS_NAME), str(root / CUR_NAME)]
