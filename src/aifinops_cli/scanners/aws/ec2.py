"""Accelerated EC2 instances: running ones with their utilisation, stopped ones with their storage.

Utilisation comes from CloudWatch over the lookback window, as daily statistics: CPU and network
from `AWS/EC2` (every instance has them), GPU utilisation and GPU memory from the CloudWatch
agent's NVIDIA metrics (`CWAgent` / `nvidia_smi_utilization_gpu`, `nvidia_smi_memory_used` and
`nvidia_smi_memory_total`, MiB, one series per GPU with the dimensions `index`, `name`, `host`,
`arch` and the appended `InstanceId`) where the agent publishes them. All queries of
a region go into as few GetMetricData calls as possible (500 queries per call); the agent's GPU
metrics are discovered with one paginated ListMetrics per region (the utilisation metric; the
memory metrics of a GPU carry the same dimensions, so they are asked for in the same
GetMetricData batches without listing them). Never one call per instance.

Spot instances are priced at the Spot price in effect at scan time (DescribeSpotPriceHistory,
one call per region that runs any), else at the on-demand rate with a note that it is an upper
bound.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from aifinops_cli.core import overlap
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import Observation
from aifinops_cli.core.plugin import ScanContext
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.pricing.gpu_fit import RIGHTSIZE_FIELDS, GpuNeed, rightsize_metrics
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.pricing import (
    SpotPrices,
    instance_cost_line,
    read_list_prices,
    read_spot_prices,
    spot_cost_line,
    volume_lines_for,
)

MAX_QUERIES_PER_CALL = 500
DAY = 86400
GPU_NAMESPACE = "CWAgent"
GPU_METRIC = "nvidia_smi_utilization_gpu"
GPU_MEM_USED = "nvidia_smi_memory_used"  # MiB
GPU_MEM_TOTAL = "nvidia_smi_memory_total"  # MiB
MIB_PER_GB = 1024.0
_STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


def _queries_for(instance_id: str, index: int, window: int) -> list[dict[str, Any]]:
    """CPU average per day (how many days have data, and the daily pattern); the maximum and the
    network totals over the whole window, which is all a rule needs of them."""
    dims = [{"Name": "InstanceId", "Value": instance_id}]

    def q(qid: str, metric: str, stat: str, period: int) -> dict[str, Any]:
        return {
            "Id": f"{qid}{index}",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": metric, "Dimensions": dims},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }

    return [
        q("cpuavg", "CPUUtilization", "Average", DAY),
        q("cpumax", "CPUUtilization", "Maximum", window),
        q("netin", "NetworkIn", "Sum", window),
        q("netout", "NetworkOut", "Sum", window),
    ]


def _gpu_queries(metrics: list[dict[str, Any]], index: int, window: int) -> list[dict[str, Any]]:
    """Per GPU: utilisation average and maximum, and the peak of memory used and its total (the
    memory metrics share the utilisation metric's dimensions)."""
    out = []
    for n, metric in enumerate(metrics):
        for name, stat, prefix in (
            (GPU_METRIC, "Average", "gpuavg"),
            (GPU_METRIC, "Maximum", "gpumax"),
            (GPU_MEM_USED, "Maximum", "gpumem"),
            (GPU_MEM_TOTAL, "Maximum", "gputot"),
        ):
            out.append(
                {
                    "Id": f"{prefix}{index}x{n}",
                    "MetricStat": {"Metric": {**metric, "MetricName": name}, "Period": window, "Stat": stat},
                    "ReturnData": True,
                }
            )
    return out


def fetch_metrics(
    cloudwatch: Any, queries: list[dict[str, Any]], start: Any, end: Any
) -> dict[str, list[float]]:
    """Run all queries in batches of 500 and follow NextToken; values by query id."""
    values: dict[str, list[float]] = defaultdict(list)
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        batch = queries[first : first + MAX_QUERIES_PER_CALL]
        paginator = cloudwatch.get_paginator("get_metric_data")
        for page in paginator.paginate(
            MetricDataQueries=batch, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        ):
            for result in page["MetricDataResults"]:
                values[result["Id"]].extend(float(v) for v in result.get("Values", []))
    return values


def gpu_metrics_by_instance(cloudwatch: Any) -> dict[str, list[dict[str, Any]]]:
    """The agent's GPU utilisation metrics, grouped by instance (one entry per GPU)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    paginator = cloudwatch.get_paginator("list_metrics")
    for page in paginator.paginate(Namespace=GPU_NAMESPACE, MetricName=GPU_METRIC, RecentlyActive="PT3H"):
        for metric in page["Metrics"]:
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            if "InstanceId" in dims and metric not in found[dims["InstanceId"]]:
                found[dims["InstanceId"]].append(metric)  # some endpoints repeat a metric per datapoint
    return found


def summarise(values: dict[str, list[float]], index: int, gpu_count: int) -> dict[str, float | None]:
    """CloudWatch answers -> the numbers rules threshold on."""
    cpu_avg = values.get(f"cpuavg{index}", [])
    cpu_max = values.get(f"cpumax{index}", [])
    net = sum(values.get(f"netin{index}", [])) + sum(values.get(f"netout{index}", []))
    has_net = bool(values.get(f"netin{index}") or values.get(f"netout{index}"))
    gpu_avg = [v for n in range(gpu_count) for v in values.get(f"gpuavg{index}x{n}", [])]
    gpu_max = [v for n in range(gpu_count) for v in values.get(f"gpumax{index}x{n}", [])]
    days = len(cpu_avg)
    # the peak memory used per GPU over the window, and each GPU's memory, in GB
    mem_peaks = [max(v) / MIB_PER_GB for n in range(gpu_count) if (v := values.get(f"gpumem{index}x{n}"))]
    totals = [max(v) / MIB_PER_GB for n in range(gpu_count) if (v := values.get(f"gputot{index}x{n}"))]
    return {
        "metric_days": float(days),
        "cpu_avg_pct": round(sum(cpu_avg) / days, 2) if days else None,
        "cpu_max_pct": round(max(cpu_max), 2) if cpu_max else None,
        "network_mb_per_day": round(net / days / 1e6, 3) if has_net and days else None,
        "gpu_util_avg_pct": round(sum(gpu_avg) / len(gpu_avg), 2) if gpu_avg else None,
        "gpu_util_max_pct": round(max(gpu_max), 2) if gpu_max else None,
        "gpu_mem_peak_gb": round(sum(mem_peaks), 3) if mem_peaks else None,
        "gpu_mem_peak_per_gpu_gb": round(max(mem_peaks), 3) if mem_peaks else None,
        "gpu_mem_total_gb": round(sum(totals), 3) if totals else None,
    }


class GpuInstanceScanner(common.RegionalScanner):
    name = "aws.ec2"
    description = (
        "Accelerated EC2 instances (p, g, trn, inf, dl, ...): utilisation over the "
        "lookback window, and stopped ones whose volumes keep billing"
    )
    kinds = ("aws.ec2.instance",)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "aws.ec2.instance": (
            "accelerated",
            "age_days",
            "attached_storage_monthly_usd",
            "attached_volume_gb",
            "cpu_avg_pct",
            "cpu_max_pct",
            "family",
            "gpu_metrics",
            "gpu_util_avg_pct",
            "gpu_util_max_pct",
            "instance_type",
            "launched_at",
            "lifecycle",
            "lookback_days",
            "metric_days",
            "network_mb_per_day",
            "state",
            "stopped_days",
            *RIGHTSIZE_FIELDS,
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        ctx, account = self.context, self.account
        unpriced: list[dict[str, str]] = []  # this region's SKUs without a price
        inv = common.inventory(ctx, session, region)
        price_note = read_list_prices(ctx, session, region, inv.instances, inv.volumes)
        accelerated = [i for i in inv.instances if common.is_accelerated(i["InstanceType"])]
        running = [i for i in accelerated if i["State"]["Name"] == "running"]
        metrics: dict[str, dict[str, float | None]] = {}
        problem = ""
        if running:
            try:
                metrics = self._utilisation(ctx, session, region, running)
            except common.AWS_ERRORS as exc:
                # without metrics nothing can be judged idle, but stopped instances still can
                problem = common.explain(exc, "cloudwatch", region)
        spot, spot_problem = read_spot_prices(ctx, session, region, running)
        volumes = inv.volumes_by_id
        out = []
        for inst in accelerated:
            obs = self._observe(
                ctx,
                account,
                region,
                inst,
                metrics.get(inst["InstanceId"]),
                volumes,
                unpriced,
                spot,
                spot_problem,
            )
            out.append(obs)
        note = f"{len(inv.instances)} instances, {len(accelerated)} accelerated"
        if problem:
            note = f"{note}; utilisation not read: {problem}"
        if price_note:
            note = f"{note}; {price_note}"
        return ScopeItems(out, note, partial=bool(problem), unpriced=unpriced)

    def _utilisation(
        self, ctx: ScanContext, session: Any, region: str, running: list[dict[str, Any]]
    ) -> dict[str, dict[str, float | None]]:
        cloudwatch = common.client(self.context, session, "cloudwatch", region)
        end = ctx.now.replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(days=ctx.options.lookback_days)
        window = ctx.options.lookback_days * DAY
        gpu_metrics = gpu_metrics_by_instance(cloudwatch)
        queries: list[dict[str, Any]] = []
        for index, inst in enumerate(running):
            queries.extend(_queries_for(inst["InstanceId"], index, window))
            queries.extend(_gpu_queries(gpu_metrics.get(inst["InstanceId"], []), index, window))
        values = fetch_metrics(cloudwatch, queries, start, end)
        return {
            inst["InstanceId"]: summarise(values, index, len(gpu_metrics.get(inst["InstanceId"], [])))
            for index, inst in enumerate(running)
        }

    def _observe(
        self,
        ctx: ScanContext,
        account: str,
        region: str,
        inst: dict[str, Any],
        utilisation: dict[str, float | None] | None,
        volumes: dict[str, dict[str, Any]],
        unpriced: list[dict[str, str]],
        spot: SpotPrices,
        spot_problem: str,
    ) -> Observation:
        itype = inst["InstanceType"]
        state = inst["State"]["Name"]
        tags = common.tags_of(inst)
        lifecycle = inst.get("InstanceLifecycle") or "on-demand"
        zone = (inst.get("Placement") or {}).get("AvailabilityZone", "")
        evidence = []
        lines = []
        # SKUs of this instance no catalog prices, its volumes' included: the runner ties
        # unpriced entries to observations by id, and a volume's id is not the instance's
        missing_skus: list[str] = []
        spot_line = (
            spot_cost_line(spot, itype, zone, 1, f"{itype} Spot in {zone}") if lifecycle == "spot" else None
        )
        if state == "running" and spot_line is not None:
            lines.append(spot_line)
        elif state == "running":
            if lifecycle == "spot":
                why = spot_problem or f"no Spot price published for {itype} in {zone}"
                evidence.append(f"Spot instance priced at the on-demand rate, an upper bound ({why})")
            line = instance_cost_line(ctx.prices, region, itype)
            if line is None:
                unpriced.append(
                    {
                        "scanner": self.name,
                        "resource_id": inst["InstanceId"],
                        "sku": f"aws.ec2:{itype}:{region}",
                    }
                )
                missing_skus.append(f"aws.ec2:{itype}:{region}")
            else:
                lines.append(line)
        attached_gb = 0.0
        storage_lines = []
        for mapping in inst.get("BlockDeviceMappings", []):
            vol = volumes.get(mapping.get("Ebs", {}).get("VolumeId", ""))
            if vol is None:
                continue
            attached_gb += float(vol.get("Size", 0))
            vlines, missing = volume_lines_for(ctx.prices, region, vol)
            storage_lines.extend(vlines)
            unpriced.extend({"scanner": self.name, "resource_id": vol["VolumeId"], "sku": s} for s in missing)
            missing_skus.extend(missing)
        lines.extend(storage_lines)
        metrics: dict[str, float | None] = dict(utilisation or {})
        metrics["attached_volume_gb"] = attached_gb
        metrics["attached_storage_monthly_usd"] = round(sum(x.monthly_usd for x in storage_lines), 6)
        metrics["age_days"] = age_days(inst.get("LaunchTime"), ctx.now)
        stopped = _STOPPED_AT.search(inst.get("StateTransitionReason", "") or "")
        if state == "stopped" and stopped:
            when = datetime.strptime(stopped.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            metrics["stopped_days"] = age_days(when, ctx.now)
        rs_attrs = self._rightsize(ctx, region, itype, lines, lifecycle, metrics)
        if utilisation is not None:
            source = (
                "CPU, network and GPU (CloudWatch agent)"
                if utilisation.get("gpu_util_max_pct") is not None
                else "CPU and network only (no GPU metrics published)"
            )
            evidence.append(f"{ctx.options.lookback_days}-day window, daily statistics: {source}")
        return Observation(
            provider="aws",
            kind="aws.ec2.instance",
            id=inst["InstanceId"],
            covers=(overlap.aws_instance(inst["InstanceId"]),),
            account=account,
            region=region,
            name=tags.get("Name", ""),
            tags=tags,
            owner=ctx.config.owner_from_tags(tags),
            metrics=metrics,
            attributes={
                "state": state,
                "instance_type": itype,
                "family": itype.split(".", 1)[0],
                "accelerated": True,
                "lifecycle": lifecycle,
                "gpu_metrics": utilisation is not None and utilisation.get("gpu_util_max_pct") is not None,
                "launched_at": inst["LaunchTime"].isoformat() if inst.get("LaunchTime") else None,
                "lookback_days": ctx.options.lookback_days,
                **rs_attrs,
            },
            cost_lines=tuple(lines),
            evidence=tuple(evidence),
            unpriced=tuple(dict.fromkeys(missing_skus)),
        )

    @staticmethod
    def _rightsize(
        ctx: ScanContext,
        region: str,
        itype: str,
        lines: list[Any],
        lifecycle: str,
        metrics: dict[str, float | None],
    ) -> dict[str, Any]:
        """`gpu-rightsize` inputs for a running on-demand instance whose agent published GPU
        memory and utilisation: the cheapest smaller GPU instance that would hold the peaks."""
        peak, per_gpu, activity = (
            metrics.get("gpu_mem_peak_gb"),
            metrics.get("gpu_mem_peak_per_gpu_gb"),
            metrics.get("gpu_util_max_pct"),
        )
        compute = next((x for x in lines if x.sku.startswith("aws.ec2:")), None)
        need = None
        if peak is not None and per_gpu is not None and activity is not None:
            need = GpuNeed(per_gpu, peak, activity, GPU_METRIC)
        hourly = compute.unit_price_usd if compute is not None and lifecycle == "on-demand" else None
        rs_metrics, attrs = rightsize_metrics(ctx.prices, "aws", region, itype, hourly, need)
        metrics.update({k: v for k, v in rs_metrics.items() if metrics.get(k) is None})
        return attrs
