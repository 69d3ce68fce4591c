"""Bedrock Provisioned Throughput: model units that bill by the hour whether anyone calls them.

Per region: one paginated ListProvisionedModelThroughputs (its summaries carry the model units,
the base model, the term and when it ends, so no Get per model), one ListTagsForResource per
provisioned model for the owner's tags (Provisioned Throughput quotas keep these few; the tagging
API does not list Bedrock provisioned models), and the `AWS/Bedrock` Invocations of every
provisioned model (dimension ModelId = the provisioned model's ARN, which is what callers pass as
modelId) in batched GetMetricData calls, never one per model.

Custom-model deployments (CreateCustomModelDeployment, on-demand inference of a custom model) bill
per token, not per hour: idle ones cost nothing, so they are not listed here.

Cost: model units x the catalog's hourly rate for the base model and term x HOURS_PER_MONTH. What
deleting saves: the whole month without a term; with a 1- or 6-month term the hours until the term
ends are owed anyway, so the saving is only the part of the next month after the term ends
(`avoidable_monthly_usd`), i.e. "do not renew".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import DAYS_PER_MONTH, HOURS_PER_MONTH, CostLine, Observation
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.ec2 import DAY, fetch_metrics

SERVICE = "aws.bedrock.provisioned"
KIND = "aws.bedrock.provisioned_throughput"
# AWS's commitmentDuration values -> the catalog's term names (absent: no commitment)
TERMS = {"OneMonth": "1-month", "SixMonths": "6-month"}


def model_id(arn: str) -> str:
    """arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-lite-v1 -> amazon.titan-text-lite-v1"""
    return arn.rsplit("/", 1)[-1]


def term_of(summary: dict[str, Any]) -> str:
    return TERMS.get(str(summary.get("commitmentDuration") or ""), "no-commitment")


def pt_line(prices: PriceCatalog, region: str, base_model: str, term: str, units: int) -> CostLine | None:
    return prices.line(
        SERVICE,
        f"{base_model}/{term}",
        region,
        HOURS_PER_MONTH * units,
        f"{base_model} provisioned throughput, {units} model unit(s) x {HOURS_PER_MONTH:g} h/month, {term}",
    )


def avoidable_share(term: str, expires: datetime | None, now: datetime) -> float:
    """Share of the next month that deleting (or not renewing) saves: all of it without a term;
    with a term, only the days of the next month after the term ends."""
    if term == "no-commitment" or expires is None:
        return 1.0
    days_left = (expires - now).total_seconds() / 86400
    return min(1.0, max(0.0, (DAYS_PER_MONTH - days_left) / DAYS_PER_MONTH))


@dataclass
class Provisioned:
    summary: dict[str, Any]
    tags: dict[str, str]
    invocations: float | None = None
    active_days: int | None = None


def _queries(models: list[Provisioned]) -> list[dict[str, Any]]:
    return [
        {
            "Id": f"inv{n}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Bedrock",
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": m.summary["provisionedModelArn"]}],
                },
                "Period": DAY,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        for n, m in enumerate(models)
    ]


class BedrockProvisionedScanner(common.RegionalScanner):
    name = "aws.bedrock"
    description = "Bedrock Provisioned Throughput (model units billed hourly) and its invocations"
    kinds = (KIND,)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        KIND: (
            "age_days",
            "avoidable_monthly_usd",
            "base_model",
            "commitment",
            "commitment_days_left",
            "commitment_expires_at",
            "created_at",
            "custom_model",
            "invocation_days",
            "invocations",
            "lookback_days",
            "model_arn",
            "model_units",
            "status",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        ctx = self.context
        bedrock = common.client(self.context, session, "bedrock", region)
        summaries = [
            s
            for page in bedrock.get_paginator("list_provisioned_model_throughputs").paginate()
            for s in page.get("provisionedModelSummaries", [])
        ]
        # Creating/Updating bill as well (the units are reserved); Failed ones do not
        billing = [s for s in summaries if s.get("status") in ("InService", "Creating", "Updating")]
        problems: list[str] = []
        models: list[Provisioned] = []
        for s in billing:
            tags: dict[str, str] = {}
            try:
                answer = bedrock.list_tags_for_resource(resourceARN=s["provisionedModelArn"])
                tags = {t["key"]: t.get("value", "") for t in answer.get("tags", [])}
            except common.AWS_ERRORS as exc:
                if not problems:
                    problems.append(f"owners unknown: {common.explain(exc, 'bedrock', region)}")
            models.append(Provisioned(s, tags))
        if models:
            cloudwatch = common.client(self.context, session, "cloudwatch", region)
            end = ctx.now.replace(minute=0, second=0, microsecond=0)
            start = end - timedelta(days=ctx.options.lookback_days)
            try:
                values = fetch_metrics(cloudwatch, _queries(models), start, end)
                for n, m in enumerate(models):
                    m.invocations = float(sum(values.get(f"inv{n}", [])))
                    m.active_days = sum(1 for x in values.get(f"inv{n}", []) if x > 0)
            except common.AWS_ERRORS as exc:
                problems.append(f"invocations not read: {common.explain(exc, 'cloudwatch', region)}")
        unpriced: list[dict[str, str]] = []
        out = [self._observation(region, m, unpriced) for m in models]
        note = f"{len(summaries)} provisioned models ({len(billing)} billing)"
        if problems:
            note = f"{note}; " + "; ".join(problems)
        return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

    def _observation(self, region: str, m: Provisioned, unpriced: list[dict[str, str]]) -> Observation:
        ctx, s = self.context, m.summary
        base = model_id(str(s.get("foundationModelArn") or s.get("modelArn") or ""))
        term = term_of(s)
        units = int(s.get("modelUnits") or 0)
        line = pt_line(ctx.prices, region, base, term, units)
        if line is None:
            unpriced.append(
                {
                    "scanner": self.name,
                    "resource_id": s["provisionedModelName"],
                    "sku": f"{SERVICE}:{base}/{term}:{region}",
                }
            )
        expires = s.get("commitmentExpirationTime")
        days_left = max(0.0, (expires - ctx.now).total_seconds() / 86400) if expires else None
        share = avoidable_share(term, expires, ctx.now)
        monthly = line.monthly_usd if line else 0.0
        custom = ":custom-model/" in str(s.get("modelArn") or "")
        evidence = []
        if m.invocations is not None:
            evidence.append(
                f"{ctx.options.lookback_days}-day window: AWS/Bedrock Invocations with ModelId = the "
                "provisioned model's ARN (no datapoints means no requests)"
            )
        if term != "no-commitment":
            evidence.append(
                f"{term} term: the hours until it ends are owed whether deleted or not; the saving "
                "is what not renewing avoids in the next month"
            )
        return Observation(
            provider="aws",
            kind=KIND,
            id=s["provisionedModelArn"],
            account=self.account,
            region=region,
            name=s["provisionedModelName"],
            tags=m.tags,
            owner=ctx.config.owner_from_tags(m.tags),
            metrics={
                "model_units": float(units),
                "invocations": m.invocations,
                "invocation_days": float(m.active_days) if m.active_days is not None else None,
                "age_days": age_days(s.get("creationTime"), ctx.now),
                "commitment_days_left": round(days_left, 2) if days_left is not None else None,
                "avoidable_monthly_usd": round(monthly * share, 6),
            },
            attributes={
                "status": s.get("status"),
                "base_model": base,
                "model_arn": s.get("modelArn"),
                "custom_model": custom,
                "commitment": term,
                "commitment_expires_at": expires.isoformat() if expires else None,
                "created_at": s["creationTime"].isoformat() if s.get("creationTime") else None,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=(line,) if line else (),
            evidence=tuple(evidence),
        )
