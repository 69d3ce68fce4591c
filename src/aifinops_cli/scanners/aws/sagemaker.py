"""SageMaker: real-time endpoints nobody calls, notebook instances left on, and the same model
served by several teams' endpoints (duplicate capability).

Per region: ListEndpoints, then DescribeEndpoint / DescribeEndpointConfig / DescribeModel for the
endpoints that bill (SageMaker has no batch describe; configs and models shared by several
endpoints are described once), ListNotebookInstances (its summaries carry everything we need),
one paginated `tag:GetResources` for the owners' tags of every endpoint and notebook (instead of a
ListTags call per resource), and the `AWS/SageMaker` Invocations of every endpoint variant in as
few GetMetricData calls as possible (500 queries per call). Never a metrics call per endpoint.

Asynchronous endpoints (an AsyncInferenceConfig in their endpoint config) queue requests: in the
same batched GetMetricData calls they also get their `ApproximateBacklogSize` (Maximum) and
`InvocationsProcessed` (Sum, per endpoint); an endpoint with a backlog is never idle, and its
invocations are the larger of Invocations and InvocationsProcessed.

Notebook instances publish no utilisation to CloudWatch (idle detection in AWS's own samples runs
inside the instance, against the Jupyter API), so from outside we can only say how long a notebook
has been InService since it was last started or changed (`LastModifiedTime`) and whether it has a
lifecycle configuration (the usual home of an auto-stop script). The notebook rule's confidence
says so.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from aifinops_cli.core.fanout import ScopeItems, fan_out
from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine, Observation
from aifinops_cli.core.plugin import ScanContext
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.ec2 import DAY, fetch_metrics
from aifinops_cli.scanners.aws.pricing import read_sagemaker_prices

HOSTING = "aws.sagemaker.hosting"
NOTEBOOK = "aws.sagemaker.notebook"
# Endpoint states in which instances are provisioned and billing.
BILLING_STATES = {"InService", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"}
TAGGED_TYPES = ["sagemaker:endpoint", "sagemaker:notebook-instance"]
# Environment variables the Hugging Face / TGI / DJL containers read the model id from, when the
# weights come from the Hub rather than from a ModelDataUrl.
HUB_MODEL_ENV = ("HF_MODEL_ID", "HF_MODEL_ID_OR_PATH", "OPTION_MODEL_ID")


def hosting_line(prices: PriceCatalog, region: str, instance_type: str, count: int) -> CostLine | None:
    hours = HOURS_PER_MONTH * count
    return prices.line(
        HOSTING,
        instance_type,
        region,
        hours,
        f"{instance_type} real-time inference x{count}, {HOURS_PER_MONTH:g} h/month each",
    )


def notebook_line(prices: PriceCatalog, region: str, instance_type: str) -> CostLine | None:
    return prices.line(
        NOTEBOOK,
        instance_type,
        region,
        HOURS_PER_MONTH,
        f"{instance_type} notebook instance, {HOURS_PER_MONTH:g} h/month",
    )


def artifact_key(model: dict[str, Any]) -> tuple[str, str] | None:
    """What identifies the served model: its weights (ModelDataUrl / S3 source), else a Hub model
    id in the container environment, else the image (a model baked into its image). A framework
    image alone is never the key when weights are given: many unrelated models share one."""
    containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else []
    containers += model.get("Containers") or []
    keys: list[tuple[str, str]] = []
    for c in containers:
        data = c.get("ModelDataUrl") or (c.get("ModelDataSource", {}).get("S3DataSource", {}).get("S3Uri"))
        env = c.get("Environment") or {}
        hub = next((env[k] for k in HUB_MODEL_ENV if env.get(k)), None)
        if data:
            keys.append(("model_data", str(data)))
        elif hub:
            keys.append(("hub_model", str(hub)))
        elif c.get("Image"):
            keys.append(("image", str(c["Image"])))
    if not keys:
        return None
    if len(keys) == 1:
        return keys[0]
    return ("pipeline", " + ".join(v for _, v in keys))


@dataclass
class Variant:
    endpoint: str
    variant: str
    instance_type: str | None
    count: int
    model: str
    artifact: tuple[str, str] | None
    serverless: bool
    line: CostLine | None
    invocations: float = 0.0
    active_days: int = 0  # days of the window with at least one invocation
    owner: str = ""

    @property
    def monthly_usd(self) -> float:
        return self.line.monthly_usd if self.line else 0.0


@dataclass
class EndpointFacts:
    summary: dict[str, Any]
    described: dict[str, Any]
    variants: list[Variant] = field(default_factory=list)
    asynchronous: bool = False  # an AsyncInferenceConfig: requests are queued
    backlog_max: float | None = None  # max ApproximateBacklogSize over the window (async only)
    processed: float = 0.0  # InvocationsProcessed over the window (async only)


def _describe_all(
    sm: Any, endpoints: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Describe billing endpoints, their configs and models; each config and model once."""

    def each(call: Any, items: list[Any]) -> list[Any]:
        # daemon workers (fan_out): a region abandoned at the deadline never holds the exit
        done = fan_out(items, call, workers=8, deadline=None, name="sagemaker-describe")
        for d in done:
            if d.error is not None:
                raise d.error
        return [d.value for d in done]

    described = each(lambda e: sm.describe_endpoint(EndpointName=e["EndpointName"]), endpoints)
    config_names = sorted({d["EndpointConfigName"] for d in described})
    configs = dict(
        zip(
            config_names,
            each(lambda n: sm.describe_endpoint_config(EndpointConfigName=n), config_names),
            strict=True,
        )
    )
    model_names = sorted(
        {
            v["ModelName"]
            for c in configs.values()
            for v in c.get("ProductionVariants", [])
            if v.get("ModelName")
        }
    )

    def model(name: str) -> dict[str, Any]:
        try:
            return sm.describe_model(ModelName=name)
        except ClientError as exc:  # a model deleted under a live endpoint: still priced
            if exc.response.get("Error", {}).get("Code") == "ValidationException":
                return {}
            raise

    models = dict(zip(model_names, each(model, model_names), strict=True))
    triples = [(e, d, configs[d["EndpointConfigName"]]) for e, d in zip(endpoints, described, strict=True)]
    return triples, models


def _owner_tags(ctx: ScanContext, session: Any, region: str) -> tuple[dict[str, dict[str, str]], str]:
    """ARN -> tags for every endpoint and notebook of the region, in one paginated call."""
    tagging = common.client(ctx, session, "resourcegroupstaggingapi", region)
    found: dict[str, dict[str, str]] = {}
    try:
        for page in tagging.get_paginator("get_resources").paginate(
            ResourceTypeFilters=TAGGED_TYPES, ResourcesPerPage=100
        ):
            for item in page.get("ResourceTagMappingList", []):
                found[item["ResourceARN"]] = {t["Key"]: t.get("Value", "") for t in item.get("Tags", [])}
    except common.AWS_ERRORS as exc:
        return {}, f"owners unknown: {common.explain(exc, 'tag', region)}"
    return found, ""


def _invocation_queries(variants: list[Variant], period: int) -> list[dict[str, Any]]:
    return [
        {
            "Id": f"inv{n}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": "Invocations",
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": v.endpoint},
                        {"Name": "VariantName", "Value": v.variant},
                    ],
                },
                "Period": period,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        for n, v in enumerate(variants)
    ]


def _async_queries(endpoints: list[EndpointFacts], period: int) -> list[dict[str, Any]]:
    def query(qid: str, metric: str, stat: str, endpoint: str) -> dict[str, Any]:
        dims = [{"Name": "EndpointName", "Value": endpoint}]
        return {
            "Id": qid,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": dims},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }

    out = []
    for n, f in enumerate(endpoints):
        name = f.described["EndpointName"]
        out.append(query(f"backlog{n}", "ApproximateBacklogSize", "Maximum", name))
        out.append(query(f"processed{n}", "InvocationsProcessed", "Sum", name))
    return out


def short_name(kind: str, artifact: str) -> str:
    """s3://bucket/llama-3-8b/v3/model.tar.gz -> llama-3-8b/v3; an image -> its repo:tag."""
    if kind == "model_data" and artifact.startswith("s3://"):
        key = artifact[5:].split("/", 1)[-1]
        parts = key.split("/")
        return "/".join(parts[:-1]) if len(parts) > 1 else key
    return artifact.rsplit("/", 1)[-1]


def kept_copy(copies: list[Variant]) -> Variant:
    """The copy to keep when consolidating: the busiest, then the largest, then by name."""
    return sorted(copies, key=lambda v: (-v.invocations, -v.monthly_usd, v.endpoint, v.variant))[0]


class SageMakerScanner(common.RegionalScanner):
    name = "aws.sagemaker"
    description = (
        "SageMaker real-time endpoints with no invocations, notebook instances left "
        "InService, and the same model served by several teams' endpoints"
    )
    kinds = ("aws.sagemaker.endpoint", "aws.sagemaker.notebook", "aws.sagemaker.model_group")
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "aws.sagemaker.endpoint": (
            "age_days",
            "async_inference",
            "backlog_max",
            "created_at",
            "endpoint_config",
            "instance_count",
            "instance_types",
            "invocation_days",
            "invocations",
            "lookback_days",
            "serverless",
            "status",
            "variants",
        ),
        "aws.sagemaker.notebook": (
            "accelerated",
            "age_days",
            "in_service_days",
            "instance_type",
            "last_modified_at",
            "lifecycle_config",
            "status",
        ),
        "aws.sagemaker.model_group": (
            "artifact",
            "artifact_kind",
            "copies",
            "endpoint_count",
            "extra_active_copies_monthly_usd",
            "extra_copies_monthly_usd",
            "invocations",
            "kept_endpoint",
            "kept_monthly_usd",
            "owner_count",
            "owners",
            "total_monthly_usd",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        ctx, account = self.context, self.account
        unpriced: list[dict[str, str]] = []  # this region's SKUs without a price
        sm = common.client(self.context, session, "sagemaker", region)
        endpoints = [
            e
            for page in sm.get_paginator("list_endpoints").paginate(MaxResults=100)
            for e in page["Endpoints"]
        ]
        notebooks = [
            n
            for page in sm.get_paginator("list_notebook_instances").paginate(MaxResults=100)
            for n in page["NotebookInstances"]
        ]
        billing = [e for e in endpoints if e.get("EndpointStatus") in BILLING_STATES]
        in_service = [n for n in notebooks if n.get("NotebookInstanceStatus") == "InService"]
        problems: list[str] = []
        tags: dict[str, dict[str, str]] = {}
        if billing or in_service:
            tags, problem = _owner_tags(ctx, session, region)
            if problem:
                problems.append(problem)
        price_notes: list[str] = []
        facts = self._endpoints(ctx, sm, region, billing, tags, unpriced, session, price_notes)
        variants = [v for f in facts for v in f.variants]
        measured = False
        if variants:
            try:
                self._invocations(ctx, session, region, variants, [f for f in facts if f.asynchronous])
                measured = True
            except common.AWS_ERRORS as exc:
                problems.append(f"invocations not read: {common.explain(exc, 'cloudwatch', region)}")
        out: list[Observation] = [self._endpoint_obs(ctx, account, region, f, tags, measured) for f in facts]
        out.extend(self._model_groups(ctx, account, region, variants, measured))
        out.extend(self._notebook_obs(ctx, account, region, n, tags, unpriced) for n in in_service)
        note = (
            f"{len(endpoints)} endpoints ({len(billing)} billing), "
            f"{len(notebooks)} notebook instances ({len(in_service)} InService)"
        )
        if problems:
            note = f"{note}; " + "; ".join(problems)
        note = "; ".join([note, *price_notes])
        return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

    # --- endpoints ------------------------------------------------------------------------------

    def _endpoints(
        self,
        ctx: ScanContext,
        sm: Any,
        region: str,
        billing: list[dict[str, Any]],
        tags: dict[str, dict[str, str]],
        unpriced: list[dict[str, str]],
        session: Any = None,
        price_notes: list[str] | None = None,
    ) -> list[EndpointFacts]:
        if not billing:
            return []
        triples, models = _describe_all(sm, billing)
        if session is not None and price_notes is not None:  # the instance types, from the price list
            types = [
                v["InstanceType"]
                for _, _, c in triples
                for v in c.get("ProductionVariants", [])
                if v.get("InstanceType")
            ]
            price_notes.extend(n for n in [read_sagemaker_prices(ctx, session, region, types)] if n)
        out = []
        for summary, described, config in triples:
            owner = ctx.config.owner_from_tags(tags.get(described["EndpointArn"], {}))
            by_variant = {v["VariantName"]: v for v in config.get("ProductionVariants", [])}
            facts = EndpointFacts(summary, described, asynchronous=bool(config.get("AsyncInferenceConfig")))
            live = described.get("ProductionVariants") or []
            for name, spec in by_variant.items():
                state = next((v for v in live if v.get("VariantName") == name), {})
                serverless = bool(spec.get("ServerlessConfig") or state.get("CurrentServerlessConfig"))
                itype = spec.get("InstanceType")
                count = int(
                    state.get(
                        "CurrentInstanceCount",
                        state.get("DesiredInstanceCount", spec.get("InitialInstanceCount", 0)),
                    )
                    or 0
                )
                line = None
                if itype and count and not serverless:
                    line = hosting_line(ctx.prices, region, itype, count)
                    if line is None:
                        unpriced.append(
                            {
                                "scanner": self.name,
                                "resource_id": described["EndpointName"],
                                "sku": f"{HOSTING}:{itype}:{region}",
                            }
                        )
                model_name = spec.get("ModelName", "")
                facts.variants.append(
                    Variant(
                        endpoint=described["EndpointName"],
                        variant=name,
                        instance_type=itype,
                        count=count,
                        model=model_name,
                        artifact=artifact_key(models.get(model_name) or {}),
                        serverless=serverless,
                        line=line,
                        owner=owner,
                    )
                )
            out.append(facts)
        return out

    def _invocations(
        self,
        ctx: ScanContext,
        session: Any,
        region: str,
        variants: list[Variant],
        asynchronous: list[EndpointFacts] | None = None,
    ) -> None:
        """Invocations per variant per day over the window, and the backlog and processed requests
        of asynchronous endpoints, all in the same batched calls."""
        cloudwatch = common.client(self.context, session, "cloudwatch", region)
        end = ctx.now.replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=ctx.options.lookback_days)
        queued = asynchronous or []
        queries = _invocation_queries(variants, DAY) + _async_queries(queued, DAY)
        values = fetch_metrics(cloudwatch, queries, start, end)
        for n, v in enumerate(variants):
            v.invocations = float(sum(values.get(f"inv{n}", [])))
            v.active_days = sum(1 for x in values.get(f"inv{n}", []) if x > 0)
        for n, f in enumerate(queued):
            f.backlog_max = max(values.get(f"backlog{n}", []), default=0.0)
            f.processed = float(sum(values.get(f"processed{n}", [])))

    def _endpoint_obs(
        self,
        ctx: ScanContext,
        account: str,
        region: str,
        facts: EndpointFacts,
        tags: dict[str, dict[str, str]],
        measured: bool,
    ) -> Observation:
        d = facts.described
        own_tags = tags.get(d["EndpointArn"], {})
        variants = facts.variants
        metrics: dict[str, float | None] = {
            "age_days": age_days(d.get("CreationTime"), ctx.now),
            "instance_count": float(sum(v.count for v in variants if not v.serverless)),
            "invocations": (max(sum(v.invocations for v in variants), facts.processed) if measured else None),
            "backlog_max": facts.backlog_max if measured and facts.asynchronous else None,
            "invocation_days": (
                float(max((v.active_days for v in variants), default=0)) if measured else None
            ),
        }
        evidence = []
        if measured:
            evidence.append(
                f"{ctx.options.lookback_days}-day window: AWS/SageMaker Invocations summed "
                "per variant (no datapoints means no requests)"
            )
        return Observation(
            provider="aws",
            kind="aws.sagemaker.endpoint",
            id=d["EndpointName"],
            account=account,
            region=region,
            name=d["EndpointName"],
            tags=own_tags,
            owner=ctx.config.owner_from_tags(own_tags),
            metrics=metrics,
            attributes={
                "status": d.get("EndpointStatus"),
                "endpoint_config": d.get("EndpointConfigName"),
                "serverless": bool(variants) and all(v.serverless for v in variants),
                "async_inference": facts.asynchronous,
                "instance_types": sorted({v.instance_type for v in variants if v.instance_type}),
                "variants": [
                    {
                        "variant": v.variant,
                        "instance_type": v.instance_type,
                        "instance_count": v.count,
                        "model": v.model,
                        "artifact": v.artifact[1] if v.artifact else None,
                        "invocations": v.invocations if measured else None,
                    }
                    for v in variants
                ],
                "created_at": d["CreationTime"].isoformat() if d.get("CreationTime") else None,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=tuple(v.line for v in variants if v.line is not None),
            evidence=tuple(evidence),
        )

    def _model_groups(
        self, ctx: ScanContext, account: str, region: str, variants: list[Variant], measured: bool
    ) -> list[Observation]:
        """One observation per model artifact served by two or more endpoints of the region.
        Copies in other regions are not compared: those are usually deliberate (latency, DR)."""
        groups: dict[tuple[str, str], list[Variant]] = defaultdict(list)
        for v in variants:
            if v.artifact is not None and not v.serverless:
                groups[v.artifact].append(v)
        out = []
        for (kind, artifact), copies in sorted(groups.items()):
            if len({c.endpoint for c in copies}) < 2:
                continue
            keep = kept_copy(copies)
            extra = [c for c in copies if c is not keep]
            # idle extra copies are claimed in full by the idle-endpoint rule; count only busy ones
            # as this rule's savings so the report's total never counts a dollar twice
            active_extra = [c for c in extra if c.invocations > 0] if measured else extra
            owners = sorted({c.owner or "(unowned)" for c in copies})
            digest = hashlib.sha256(f"{kind}:{artifact}".encode()).hexdigest()[:12]
            out.append(
                Observation(
                    provider="aws",
                    kind="aws.sagemaker.model_group",
                    id=f"model-{digest}",
                    account=account,
                    region=region,
                    name=short_name(kind, artifact),
                    owner=", ".join(o for o in owners if o != "(unowned)"),
                    metrics={
                        "endpoint_count": float(len({c.endpoint for c in copies})),
                        "owner_count": float(len(owners)),
                        "total_monthly_usd": round(sum(c.monthly_usd for c in copies), 6),
                        "kept_monthly_usd": round(keep.monthly_usd, 6),
                        "extra_copies_monthly_usd": round(sum(c.monthly_usd for c in extra), 6),
                        "extra_active_copies_monthly_usd": round(sum(c.monthly_usd for c in active_extra), 6),
                        "invocations": sum(c.invocations for c in copies) if measured else None,
                    },
                    attributes={
                        "artifact": artifact,
                        "artifact_kind": kind,
                        "owners": owners,
                        "kept_endpoint": keep.endpoint,
                        "copies": [
                            {
                                "endpoint": c.endpoint,
                                "variant": c.variant,
                                "owner": c.owner or None,
                                "instance_type": c.instance_type,
                                "instance_count": c.count,
                                "monthly_usd": round(c.monthly_usd, 2),
                                "invocations": c.invocations if measured else None,
                            }
                            for c in copies
                        ],
                    },
                    cost_lines=tuple(c.line for c in extra if c.line is not None),
                    evidence=(
                        f"{len(copies)} endpoint variants serve the same {kind.replace('_', ' ')}; "
                        f"keeping {keep.endpoint} (busiest, then largest), the others are the "
                        "extra copies",
                    ),
                )
            )
        return out

    # --- notebooks ------------------------------------------------------------------------------

    def _notebook_obs(
        self,
        ctx: ScanContext,
        account: str,
        region: str,
        nb: dict[str, Any],
        tags: dict[str, dict[str, str]],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        itype = nb.get("InstanceType", "")
        line = notebook_line(ctx.prices, region, itype)
        if line is None:
            unpriced.append(
                {
                    "scanner": self.name,
                    "resource_id": nb["NotebookInstanceName"],
                    "sku": f"{NOTEBOOK}:{itype}:{region}",
                }
            )
        own_tags = tags.get(nb.get("NotebookInstanceArn", ""), {})
        lifecycle = nb.get("NotebookInstanceLifecycleConfigName") or None
        return Observation(
            provider="aws",
            kind="aws.sagemaker.notebook",
            id=nb["NotebookInstanceName"],
            account=account,
            region=region,
            name=nb["NotebookInstanceName"],
            tags=own_tags,
            owner=ctx.config.owner_from_tags(own_tags),
            metrics={
                "in_service_days": age_days(nb.get("LastModifiedTime"), ctx.now),
                "age_days": age_days(nb.get("CreationTime"), ctx.now),
            },
            attributes={
                "status": nb.get("NotebookInstanceStatus"),
                "instance_type": itype,
                "accelerated": common.is_accelerated(itype.removeprefix("ml.")),
                "lifecycle_config": lifecycle,
                "last_modified_at": (
                    nb["LastModifiedTime"].isoformat() if nb.get("LastModifiedTime") else None
                ),
            },
            cost_lines=(line,) if line else (),
            evidence=(
                "InService since its last start or change (LastModifiedTime); notebook "
                "instances publish no utilisation metrics, so activity inside Jupyter is "
                "not visible from the AWS APIs",
            ),
        )
