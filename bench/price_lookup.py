"""Benchmark: price lookups for the demo estate against local fakes of the two price-list APIs.

AWS: the demo's regions, instances and volumes seeded into a moto server; `aws.ec2` + `aws.ebs`
run with the Price List API pointed at a local fake (`AWS_ENDPOINT_URL_PRICING`) that answers
every EC2/EBS price of the bundled catalog, in every region (so amounts must equal the bundled
ones). GCP: the demo projects (demo/gcp.py) scanned by `gcp.compute` with the Cloud
Billing Catalog pointed at a fake listing Compute Engine SKUs for every region of the bundled
catalog (the real list is about 5-10 pages of 5,000; the fake's page size is set to 5,000 too).

Each scan runs twice with one cache directory: prints the price-API calls of the first (cold)
and second (warm) run, what was fetched and answered from the cache, and the wall time.

    python bench/price_lookup.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.fakes.price_apis import PriceApis, aws_product, gcp_sku, serve_price_apis  # noqa: E402

from aifinops_cli.core.config import Config  # noqa: E402
from aifinops_cli.core.plugin import ScanContext, ScanOptions  # noqa: E402
from aifinops_cli.pricing import gcp_live  # noqa: E402
from aifinops_cli.pricing.catalog import load_catalog  # noqa: E402

FAMILIES = ("N1", "N2", "E2", "A2", "A3", "G2")


def aws_products() -> list[dict]:
    """Every aws.ec2 / aws.ebs / aws.ebs.iops row of the bundled catalog, as price-list items."""
    cat = load_catalog()
    out = []
    kinds = {
        "aws.ec2": {},
        "aws.ebs": {"family": "Storage", "unit": "GB-Mo", "sku_field": "volumeApiName"},
        "aws.ebs.iops": {
            "family": "System Operation",
            "unit": "IOPS-Mo",
            "sku_field": "volumeApiName",
            "extra": {"group": "EBS IOPS"},
        },
    }
    for service, kw in kinds.items():
        for region, skus in cat._prices.get(service, {}).items():
            for sku, price in skus.items():
                out.append(aws_product(sku, region, price.unit_price_usd, **kw))
    return out


def gcp_skus() -> list[dict]:
    regions = sorted(load_catalog()._prices["gcp.compute"])
    out = []
    for region in regions:
        for fam in FAMILIES:
            core = "N1 Predefined Instance Core" if fam == "N1" else f"{fam} Instance Core"
            ram = core.replace("Core", "Ram")
            for lead, usage, k in (("", "OnDemand", 1.0), ("Spot Preemptible ", "Preemptible", 0.3)):
                out.append(
                    gcp_sku(f"{lead}{core} running in {region}", "CPU", usage, [region], 0.03 * k, "h")
                )
                out.append(
                    gcp_sku(f"{lead}{ram} running in {region}", "RAM", usage, [region], 0.004 * k, "GiBy.h")
                )
        for name in sorted(set(gcp_live.GPU_NAMES.values())):
            out.append(gcp_sku(f"{name} GPU running in {region}", "GPU", "OnDemand", [region], 1.0, "h"))
            out.append(
                gcp_sku(
                    f"{name} GPU attached to Spot Preemptible VMs running in {region}",
                    "GPU",
                    "Preemptible",
                    [region],
                    0.3,
                    "h",
                )
            )
        out.append(
            gcp_sku(
                f"SSD backed Local Storage in {region}", "LocalSSD", "OnDemand", [region], 0.08, "GiBy.mo"
            )
        )
        for disk in gcp_live.DISK_NAMES.values():
            out.append(gcp_sku(f"{disk} in {region}", "SSD", "OnDemand", [region], 0.1, "GiBy.mo"))
    return out


def bench_aws(apis: PriceApis, url: str, cache: str) -> None:
    from tests.fakes.aws_proxy import AwsFarEnd
    from typer.testing import CliRunner

    from aifinops_cli.cli.app import app
    from aifinops_cli.demo.aws import ESTATE, seed_region

    env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DISABLE_REQUEST_COMPRESSION": "true",
        "AIFINOPS_PRICE_CACHE": cache,
        "AWS_ENDPOINT_URL_PRICING": url,
    }
    os.environ.update(env)
    with AwsFarEnd() as far_end:
        os.environ["AWS_ENDPOINT_URL"] = far_end.url
        now = datetime.now(UTC)
        for region, (instances, volumes) in ESTATE.items():
            seed_region(region, instances, volumes, now)
        regions = ",".join(ESTATE)
        for label in ("cold", "warm"):
            before = apis.count("aws")
            began = time.perf_counter()
            result = CliRunner().invoke(
                app,
                [
                    "scan",
                    "--regions",
                    regions,
                    "--scanner",
                    "aws.ec2",
                    "--scanner",
                    "aws.ebs",
                    "--format",
                    "json",
                ],
            )
            took = time.perf_counter() - began
            assert result.exit_code in (0, 1), result.output
            live = result.stdout.count('"live:aws-price-list"')
            print(
                f"aws {label}: {apis.count('aws') - before} GetProducts calls for {len(ESTATE)} regions, "
                f"{live} cost lines priced live, {took:.2f} s"
            )
        del os.environ["AWS_ENDPOINT_URL"]


def bench_gcp(apis: PriceApis, url: str) -> None:
    from aifinops_cli.demo.gcp import demo_gcp
    from aifinops_cli.scanners.gcp.compute import GcpComputeScanner

    for label in ("cold", "warm"):
        options = ScanOptions(providers=["gcp"])
        with demo_gcp(options):
            options.settings_for("gcp").endpoints["cloudbilling"] = url
            ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=datetime.now(UTC))
            before = apis.count("gcp")
            began = time.perf_counter()
            result = GcpComputeScanner(ctx).scan()
            took = time.perf_counter() - began
        stats = ctx.prices.lookups
        live = sum(
            1 for o in result.observations for c in o.cost_lines if c.source == "live:gcp-billing-catalog"
        )
        print(
            f"gcp {label}: {apis.count('gcp') - before} skus.list calls, {stats.fetched} SKUs priced from "
            f"the list, {stats.cache_hits} from the cache, {live} cost lines priced live, {took:.2f} s"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        os.environ["AIFINOPS_PRICE_CACHE"] = cache
        os.environ.pop("AIFINOPS_LIVE_PRICES", None)
        apis = PriceApis(aws_products=aws_products(), gcp_skus=gcp_skus(), page_size=5000)
        with serve_price_apis(apis) as url:
            print(
                f"fake price lists: {len(apis.aws_products)} EC2/EBS products, {len(apis.gcp_skus)} GCE SKUs"
            )
            bench_aws(apis, url, cache)
            bench_gcp(apis, url)


if __name__ == "__main__":
    main()
