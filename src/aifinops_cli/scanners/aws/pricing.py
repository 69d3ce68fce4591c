"""How AWS bills the resources we observe, as cost lines from the catalog (pure functions), and
the scan-time read of the AWS Price List for the types a region holds (`read_list_prices`)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing import aws_live, live
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.aws import common

SPOT_SOURCE = "aws-spot-price-history"  # DescribeSpotPriceHistory, read at scan time
SPOT_PRODUCTS = ("Linux/UNIX", "Linux/UNIX (Amazon VPC)")
SpotPrices = dict[tuple[str, str], tuple[float, str]]  # (type, zone) -> ($/h, date in effect)

GP3_FREE_IOPS = 3000
GP3_FREE_THROUGHPUT_MIBPS = 125


def volume_cost_lines(
    prices: PriceCatalog,
    region: str,
    volume_type: str,
    size_gb: float,
    iops: float | None,
    throughput: float | None,
) -> tuple[list[CostLine], list[str]]:
    """Storage, plus provisioned IOPS and throughput where billed. Returns (lines, unpriced skus)."""
    lines: list[CostLine] = []
    missing: list[str] = []
    storage = prices.line("aws.ebs", volume_type, region, size_gb, f"{volume_type} storage, {size_gb:g} GB")
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
        line = prices.line(
            "aws.ebs.iops",
            volume_type,
            region,
            billable_iops,
            f"{volume_type} provisioned IOPS, {billable_iops:g} billable",
        )
        if line is None:
            missing.append(f"aws.ebs.iops:{volume_type}:{region}")
        else:
            lines.append(line)
    if volume_type == "gp3" and throughput:
        extra = max(float(throughput) - GP3_FREE_THROUGHPUT_MIBPS, 0.0)
        if extra:
            line = prices.line(
                "aws.ebs.throughput", "gp3", region, extra, f"gp3 throughput, {extra:g} MiB/s billable"
            )
            if line is None:
                missing.append(f"aws.ebs.throughput:gp3:{region}")
            else:
                lines.append(line)
    return lines, missing


def volume_lines_for(prices: PriceCatalog, region: str, volume: dict[str, Any]):
    return volume_cost_lines(
        prices,
        region,
        volume.get("VolumeType", "standard"),
        float(volume.get("Size", 0)),
        volume.get("Iops"),
        volume.get("Throughput"),
    )


def instance_cost_line(prices: PriceCatalog, region: str, instance_type: str) -> CostLine | None:
    return prices.line(
        "aws.ec2",
        instance_type,
        region,
        HOURS_PER_MONTH,
        f"{instance_type} on-demand, {HOURS_PER_MONTH:g} h/month",
    )


def live_prices_enabled(ctx: Any) -> bool:
    """Config/env first; else yes against real AWS, no when endpoints point at a fake (moto, the
    demo) unless the Price List API's own endpoint is given (`AWS_ENDPOINT_URL_PRICING`)."""
    explicit = ctx.settings("aws").live_prices
    if explicit is None:
        explicit = live.setting(ctx.config.pricing)
    if explicit is not None:
        return bool(explicit)
    return bool(os.environ.get("AWS_ENDPOINT_URL_PRICING")) or not os.environ.get("AWS_ENDPOINT_URL")


def read_list_prices(
    ctx: Any, session: Any, region: str, instances: list[dict[str, Any]], volumes: list[dict[str, Any]]
) -> str:
    """Price the instance and volume types seen in `region` from the AWS Price List API.

    Once per region per scan (memoised: the EC2 and EBS scanners share it), a few calls at most,
    none when the on-disk cache is fresh. The prices join the catalog's live layer. Returns ""
    or one line saying why the bundled catalog was used instead (denied, unreachable).
    """
    if not live_prices_enabled(ctx):
        return ""

    def read() -> str:
        wanted = {
            "aws.ec2": sorted(
                {i["InstanceType"] for i in instances if common.is_accelerated(i["InstanceType"])}
            ),
            "aws.ebs": sorted({v.get("VolumeType", "standard") for v in volumes}),
            "aws.ebs.iops": sorted(
                {
                    v["VolumeType"]
                    for v in volumes
                    if v.get("VolumeType") in ("gp3", "io1", "io2") and v.get("Iops")
                }
            ),
        }
        cache = live.PriceCache(live.cache_dir(ctx.config.pricing))
        try:
            client = session.client("pricing", region_name=aws_live.PRICING_REGION, config=common.BOTO_CONFIG)
            for service, skus in wanted.items():
                if skus:
                    offers = aws_live.lookup(client, cache, ctx.prices.lookups, service, region, skus)
                    ctx.prices.add_live(offers, live.LIVE_AWS)
        except common.AWS_ERRORS as exc:
            return (
                f"prices from the bundled catalog: AWS Price List not read ({common.explain(exc, 'pricing')})"
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # a malformed answer
            return f"prices from the bundled catalog: AWS Price List answer unreadable ({exc})"
        return ""

    return ctx.memo(("aws-price-list", region), read)


def read_sagemaker_prices(ctx: Any, session: Any, region: str, instance_types: list[str]) -> str:
    """SageMaker hosting prices of the endpoint instance types seen in `region` (one call at
    most, none with a fresh cache). Returns "" or why the bundled catalog was used."""
    if not instance_types or not live_prices_enabled(ctx):
        return ""

    def read() -> str:
        cache = live.PriceCache(live.cache_dir(ctx.config.pricing))
        try:
            client = session.client("pricing", region_name=aws_live.PRICING_REGION, config=common.BOTO_CONFIG)
            offers = aws_live.lookup(
                client, cache, ctx.prices.lookups, "aws.sagemaker.hosting", region, instance_types
            )
        except common.AWS_ERRORS as exc:
            return (
                f"prices from the bundled catalog: AWS Price List not read ({common.explain(exc, 'pricing')})"
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"prices from the bundled catalog: AWS Price List answer unreadable ({exc})"
        ctx.prices.add_live(offers, live.LIVE_AWS)
        return ""

    return ctx.memo(("aws-price-list-sagemaker", region, tuple(sorted(set(instance_types)))), read)


def read_spot_prices(
    ctx: Any, session: Any, region: str, instances: list[dict[str, Any]]
) -> tuple[SpotPrices, str]:
    """The Spot price in effect now for the zones and types of the Spot instances given.

    Asking for the history from `now` to `now` returns the last price change before it: the
    effective price. One paginated call per region, none when no Spot instance runs there.
    Unreadable (e.g. denied): no prices and the reason, so callers price on demand and say so.
    """
    types = sorted({i["InstanceType"] for i in instances if i.get("InstanceLifecycle") == "spot"})
    if not types:
        return {}, ""
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    try:
        ec2 = common.client(ctx, session, "ec2", region)
        for page in ec2.get_paginator("describe_spot_price_history").paginate(
            InstanceTypes=types, StartTime=ctx.now, EndTime=ctx.now, ProductDescriptions=list(SPOT_PRODUCTS)
        ):
            for p in page["SpotPriceHistory"]:
                if p.get("ProductDescription") not in SPOT_PRODUCTS:
                    continue
                key, when = (p["InstanceType"], p["AvailabilityZone"]), p["Timestamp"]
                if key not in latest or when > latest[key][0]:
                    latest[key] = (when, float(p["SpotPrice"]))
    except common.AWS_ERRORS as exc:  # refused, not answered, or an answer that is not EC2's XML
        return {}, common.explain(exc, "ec2", region)
    except (KeyError, TypeError, ValueError) as exc:  # XML, but not a price history
        return {}, f"ec2 {region}: unreadable Spot price history ({type(exc).__name__}: {exc})"
    return {k: (price, when.date().isoformat()) for k, (when, price) in latest.items()}, ""


def spot_cost_line(
    prices: SpotPrices, instance_type: str, zone: str, count: int, label: str, each: bool = False
) -> CostLine | None:
    """`count` instances for a month at the Spot price in effect in `zone`, if it is known."""
    known = prices.get((instance_type, zone))
    if known is None:
        return None
    price, day = known
    return CostLine(
        f"{label}, {HOURS_PER_MONTH:g} h/month" + (" each" if each else ""),
        price,
        "hour",
        HOURS_PER_MONTH * count,
        SPOT_SOURCE,
        day,
        f"aws.ec2.spot:{instance_type}:{zone}",
    )
