"""SageMaker inference components nobody calls, on endpoints whose other components are busy.

An inference component places copies of one model on an endpoint's instances; each copy reserves
accelerators, CPU cores and memory (ComputeResourceRequirements). An idle component on an
otherwise busy endpoint holds that share of the instances: its cost is copies x the share of one
instance a copy reserves x the instance's hourly price. (When every component of an endpoint is
idle, the endpoint itself is idle and the idle-endpoint rule claims its whole cost.)

Per region: one paginated ListInferenceComponents, one DescribeInferenceComponent per InService
component (no batch describe), DescribeEndpoint + DescribeEndpointConfig only for endpoints whose
components do not name their instance type, one EC2 DescribeInstanceTypes for the accelerators,
vCPUs and memory of every instance type in use (up to 100 types a call), and the components'
`AWS/SageMaker` Invocations (dimension InferenceComponentName) in batched GetMetricData.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems, fan_out
from aifinops_cli.core.models import HOURS_PER_MONTH, Observation
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.ec2 import DAY, fetch_metrics
from aifinops_cli.scanners.aws.sagemaker import HOSTING

KIND = "aws.sagemaker.inference_component"


def copy_share(requirements: dict[str, Any], spec: dict[str, Any]) -> float | None:
    """Share of one instance a copy reserves: the largest of its accelerator, core and memory
    shares (the scarcest one decides how many copies fit), at most 1; None when unknown."""
    shares = []
    gpus = sum(int(g.get("Count") or 0) for g in (spec.get("GpuInfo") or {}).get("Gpus", []))
    neurons = sum(int(a.get("Count") or 0) for a in (spec.get("NeuronInfo") or {}).get("NeuronDevices", []))
    accelerators = gpus or neurons
    if requirements.get("NumberOfAcceleratorDevicesRequired") and accelerators:
        shares.append(float(requirements["NumberOfAcceleratorDevicesRequired"]) / accelerators)
    vcpus = (spec.get("VCpuInfo") or {}).get("DefaultVCpus")
    if requirements.get("NumberOfCpuCoresRequired") and vcpus:
        shares.append(float(requirements["NumberOfCpuCoresRequired"]) / float(vcpus))
    memory = (spec.get("MemoryInfo") or {}).get("SizeInMiB")
    if requirements.get("MinMemoryRequiredInMb") and memory:
        shares.append(float(requirements["MinMemoryRequiredInMb"]) / float(memory))
    return min(1.0, max(shares)) if shares else None


def _each(call: Any, items: list[Any], name: str) -> list[dict[str, Any]]:
    done = fan_out(items, call, workers=8, deadline=None, name=name)
    for d in done:
        if d.error is not None:
            raise d.error
    return [d.value or {} for d in done]  # no error: every call answered


class SageMakerComponentScanner(common.RegionalScanner):
    name = "aws.sagemaker_components"
    description = "SageMaker inference components: copies x instance share, and their invocations"
    kinds = (KIND,)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        KIND: (
            "accelerators_per_copy",
            "age_days",
            "copies",
            "copy_share",
            "endpoint",
            "endpoint_other_invocations",
            "instance_type",
            "invocations",
            "lookback_days",
            "memory_mb_per_copy",
            "model",
            "status",
            "variant",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        sm = common.client(self.context, session, "sagemaker", region)
        listed = [
            c
            for page in sm.get_paginator("list_inference_components").paginate(MaxResults=100)
            for c in page["InferenceComponents"]
        ]
        live = [c for c in listed if c.get("InferenceComponentStatus") == "InService"]
        if not live:
            return ScopeItems([], f"{len(listed)} inference components (0 InService)")
        described = _each(
            lambda c: sm.describe_inference_component(InferenceComponentName=c["InferenceComponentName"]),
            live,
            "sagemaker-components",
        )
        types = self._instance_types(sm, described)
        specs = self._type_specs(session, region, set(types.values()))
        problems: list[str] = []
        invocations: dict[str, float] | None = None
        try:
            invocations = self._invocations(session, region, described)
        except common.AWS_ERRORS as exc:
            problems.append(f"invocations not read: {common.explain(exc, 'cloudwatch', region)}")
        by_endpoint: dict[str, float] = defaultdict(float)
        for c in described:
            by_endpoint[c["EndpointName"]] += (invocations or {}).get(c["InferenceComponentName"], 0.0)
        unpriced: list[dict[str, str]] = []
        out = []
        for c in described:
            itype = types.get(c["InferenceComponentName"], "")
            mine = invocations.get(c["InferenceComponentName"], 0.0) if invocations is not None else None
            others = by_endpoint[c["EndpointName"]] - (mine or 0.0) if invocations is not None else None
            out.append(self._observation(region, c, itype, specs.get(itype, {}), mine, others, unpriced))
        note = f"{len(listed)} inference components ({len(live)} InService)"
        if problems:
            note = f"{note}; " + "; ".join(problems)
        return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

    def _instance_types(self, sm: Any, described: list[dict[str, Any]]) -> dict[str, str]:
        """Component -> ml.* instance type: its own Specification, else its endpoint variant's."""
        found = {
            c["InferenceComponentName"]: str((c.get("Specification") or {}).get("InstanceType"))
            for c in described
            if (c.get("Specification") or {}).get("InstanceType")
        }
        missing = sorted({c["EndpointName"] for c in described if c["InferenceComponentName"] not in found})
        if missing:
            endpoints = _each(
                lambda e: sm.describe_endpoint(EndpointName=e), missing, "sagemaker-ic-endpoints"
            )
            configs = _each(
                lambda e: sm.describe_endpoint_config(EndpointConfigName=e["EndpointConfigName"]),
                endpoints,
                "sagemaker-ic-configs",
            )
            variant_type = {
                (name, v["VariantName"]): v.get("InstanceType", "")
                for name, cfg in zip(missing, configs, strict=True)
                for v in cfg.get("ProductionVariants", [])
            }
            for c in described:
                if c["InferenceComponentName"] not in found:
                    found[c["InferenceComponentName"]] = variant_type.get(
                        (c["EndpointName"], c["VariantName"]), ""
                    )
        return found

    def _type_specs(self, session: Any, region: str, types: set[str]) -> dict[str, dict[str, Any]]:
        """ml.g5.12xlarge -> EC2's description of g5.12xlarge (GPUs, vCPUs, memory)."""
        names = sorted(t.removeprefix("ml.") for t in types if t)
        if not names:
            return {}
        ec2 = common.client(self.context, session, "ec2", region)
        out: dict[str, dict[str, Any]] = {}
        for first in range(0, len(names), 100):
            page = ec2.describe_instance_types(InstanceTypes=names[first : first + 100])
            out.update({f"ml.{t['InstanceType']}": t for t in page.get("InstanceTypes", [])})
        return out

    def _invocations(self, session: Any, region: str, described: list[dict[str, Any]]) -> dict[str, float]:
        ctx = self.context
        cloudwatch = common.client(self.context, session, "cloudwatch", region)
        end = ctx.now.replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=ctx.options.lookback_days)
        queries = [
            {
                "Id": f"ic{n}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": "Invocations",
                        "Dimensions": [
                            {"Name": "InferenceComponentName", "Value": c["InferenceComponentName"]}
                        ],
                    },
                    "Period": DAY,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for n, c in enumerate(described)
        ]
        values = fetch_metrics(cloudwatch, queries, start, end)
        return {
            c["InferenceComponentName"]: float(sum(values.get(f"ic{n}", []))) for n, c in enumerate(described)
        }

    def _observation(
        self,
        region: str,
        c: dict[str, Any],
        itype: str,
        spec: dict[str, Any],
        invocations: float | None,
        others: float | None,
        unpriced: list[dict[str, str]],
    ) -> Observation:
        ctx = self.context
        requirements = (c.get("Specification") or {}).get("ComputeResourceRequirements") or {}
        copies = int((c.get("RuntimeConfig") or {}).get("CurrentCopyCount") or 0)
        share = copy_share(requirements, spec)
        line = None
        if share is not None and itype:
            instances = round(copies * share, 6)
            line = ctx.prices.line(
                HOSTING,
                itype,
                region,
                HOURS_PER_MONTH * instances,
                f"{itype} share of inference component: {copies} copies x {share:.4g} of an instance "
                f"x {HOURS_PER_MONTH:g} h/month",
            )
        if line is None:
            unpriced.append(
                {
                    "scanner": self.name,
                    "resource_id": c["InferenceComponentName"],
                    "sku": f"{HOSTING}:{itype or 'unknown'}:{region}",
                }
            )
        return Observation(
            provider="aws",
            kind=KIND,
            id=c["InferenceComponentArn"],
            account=self.account,
            region=region,
            name=c["InferenceComponentName"],
            metrics={
                "copies": float(copies),
                "copy_share": round(share, 6) if share is not None else None,
                "accelerators_per_copy": (
                    float(requirements["NumberOfAcceleratorDevicesRequired"])
                    if requirements.get("NumberOfAcceleratorDevicesRequired")
                    else None
                ),
                "memory_mb_per_copy": (
                    float(requirements["MinMemoryRequiredInMb"])
                    if requirements.get("MinMemoryRequiredInMb")
                    else None
                ),
                "invocations": invocations,
                "endpoint_other_invocations": others,
                "age_days": age_days(c.get("CreationTime"), ctx.now),
            },
            attributes={
                "status": c.get("InferenceComponentStatus"),
                "endpoint": c.get("EndpointName"),
                "variant": c.get("VariantName"),
                "instance_type": itype,
                "model": (c.get("Specification") or {}).get("ModelName"),
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=(line,) if line else (),
            evidence=(
                f"{ctx.options.lookback_days}-day window: AWS/SageMaker Invocations by "
                "InferenceComponentName; a copy's share of an instance is the largest of its "
                "accelerator, vCPU and memory shares (EC2 DescribeInstanceTypes)",
            ),
        )
