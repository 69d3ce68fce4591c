"""A small FOCUS 1.0 billing export for the CI tests (identity, baseline, gate, JUnit, alerts),
its amounts worked out by hand below."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,"
    "ChargeDescription,ChargePeriodEnd,ChargePeriodStart,ConsumedQuantity,ConsumedUnit,EffectiveCost,"
    "ListCost,PricingQuantity,PricingUnit,ProviderName,RegionId,ResourceId,ServiceCategory,ServiceName,"
    "SubAccountId,Tags,x_UsageType"
)
TEAM = '"{""team"": ""ml-research""}"'
P4D = "$32.77 per On Demand Linux p4d.24xlarge Instance Hour"
# FOCUS 1.0 rows for October 2026 (first and last day present: exactly one month):
# a tagged p4d instance, $500 + $500; 1,000 GB from it to us-west-2 at $0.02 = $20; an untagged
# SageMaker endpoint, $500. AI spend 1,000 + 20 + 500 = 1,520; untagged 500 / 1,520 = 32.9%.
ROWS = [
    f"500.0,1111,USD,2026-11-01,2026-10-01,Usage,{P4D},2026-10-02,2026-10-01,15.258,Hours,500.0,"
    f"500.0,15.258,Hours,AWS,us-east-1,i-0train01,Compute,Amazon Elastic Compute Cloud,1111,{TEAM},"
    "USE1-BoxUsage:p4d.24xlarge",
    f"500.0,1111,USD,2026-11-01,2026-10-01,Usage,{P4D},2026-11-01,2026-10-31,15.258,Hours,500.0,"
    f"500.0,15.258,Hours,AWS,us-east-1,i-0train01,Compute,Amazon Elastic Compute Cloud,1111,{TEAM},"
    "USE1-BoxUsage:p4d.24xlarge",
    "20.0,1111,USD,2026-11-01,2026-10-01,Usage,$0.02 per GB data transfer to US West (Oregon),"
    "2026-10-16,2026-10-15,1000.0,GB,20.0,20.0,1000.0,GB,AWS,us-east-1,i-0train01,Networking,"
    f"Amazon Elastic Compute Cloud,1111,{TEAM},USE1-USW2-AWS-Out-Bytes",
    "500.0,1111,USD,2026-11-01,2026-10-01,Usage,$1.408 per Hour for ml.g5.2xlarge hosting,"
    "2026-10-16,2026-10-15,355.1,Hours,500.0,500.0,355.1,Hours,AWS,us-west-2,"
    "arn:aws:sagemaker:us-west-2:1111:endpoint/rag-chat,AI and Machine Learning,Amazon SageMaker,"
    "1111,NULL,USW2-Host:ml.g5.2xlarge",
]


def write_focus(path: Path) -> Path:
    """The export at `path`: findings billing-ai-egress ($20.00 cost, $16.00 savings = 80%) and
    billing-untagged-ai-spend ($500.00 cost, $0.00 savings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path
