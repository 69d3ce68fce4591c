"""How AWS bills the resources we observe, as cost lines from the catalog (pure functions)."""

from __future__ import annotations

from typing import Any

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing.catalog import PriceCatalog

GP3_FREE_IOPS = 3000
GP3_FREE_THROUGHPUT_MIBPS = 125


def volume_cost_lines(
    prices: PriceCatalog, region: str, volume_type: str, size_gb: float,
    iops: float | None, throughput: float | None,
) -> tuple[list[CostLine], list[str]]:
    """Storage, plus provisioned IOPS and throughput where billed. Returns (lines, unpriced skus)."""
    lines: list[CostLine] = []
    missing: list[str] = []
    storage = prices.line("aws.ebs", volume_type, region, size_gb,
                          f"{volume_type} storage, {size_gb:g} GB")
    if storage is None:
        missing.append(f"aws.ebs:{volume_type}:{region}")
    else:
        lines.append(storage)
    billable_iops = 0.0
    if volume_type == "gp3" and iops:
        billable_iops = max(float(iops) - GP3_FREE_IOPS, 0.0)
    elif volume_type in ("io1", "io2") and iops:
        billable_iops = float(iops)
    if billable_iops:
        line = prices.line("aws.ebs.iops", volume_type, region, billable_iops,
                           f"{volume_type} provisioned IOPS, {billable_iops:g} billable")
        if line is None:
            missing.append(f"aws.ebs.iops:{volume_type}:{region}")
        else:
            lines.append(line)
    if volume_type == "gp3" and throughput:
        extra = max(float(throughput) - GP3_FREE_THROUGHPUT_MIBPS, 0.0)
        if extra:
            line = prices.line("aws.ebs.throughput", "gp3", region, extra,
                               f"gp3 throughput, {extra:g} MiB/s billable")
            if line is None:
                missing.append(f"aws.ebs.throughput:gp3:{region}")
            else:
                lines.append(line)
    return lines, missing


def volume_lines_for(prices: PriceCatalog, region: str, volume: dict[str, Any]):
    return volume_cost_lines(
        prices, region, volume.get("VolumeType", "standard"), float(volume.get("Size", 0)),
        volume.get("Iops"), volume.get("Throughput"),
    )


def instance_cost_line(prices: PriceCatalog, region: str, instance_type: str) -> CostLine | None:
    return prices.line("aws.ec2", instance_type, region, HOURS_PER_MONTH,
                       f"{instance_type} on-demand, {HOURS_PER_MONTH:g} h/month")
