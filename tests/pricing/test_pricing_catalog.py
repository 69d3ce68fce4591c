"""The bundled catalogs are complete where the clouds sell, and their building blocks are right.

The GPU-family test reads the catalog's own `availability` (where each accelerator-optimised
machine type exists, from the Compute Engine API) and fails when a (type, region) has no price,
unless the catalog itself records it under `gaps` (the source copy had no price for it) and the
family is one the source is known to lag on. A new gap anywhere else fails the test.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml

from aifinops_cli.pricing import aws_live, gcp_live
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.pricing.live import LiveOffer, PriceCache
from tests.fakes.price_apis import aws_product, gcp_sku
from tests.paths import ROOT

# families the Cyclenerd copy of 2026-07-30 does not price in every region where they exist
LAGGING = ("a3-megagpu", "a3-ultragpu", "a3-edgegpu", "a4-highgpu", "g4-standard")


def _gcp_doc() -> dict:
    text = (resources.files("aifinops_cli.pricing") / "data" / "gcp.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_gpu_machine_type_is_priced_wherever_it_exists() -> None:
    doc, prices = _gcp_doc(), load_catalog()
    unpriced = sorted(
        (m, r)
        for m, regions in doc["availability"].items()
        for r in regions
        if prices.get("gcp.compute", m, r) is None
    )
    recorded = sorted((m, r) for m, regions in doc["gaps"].items() for r in regions)
    assert unpriced == recorded  # the catalog says exactly what it lacks
    assert all(m.startswith(LAGGING) for m, _ in unpriced), [
        x for x in unpriced if not x[0].startswith(LAGGING)
    ]
    # every A2, A3 High, G2 machine type: on-demand and Spot wherever it exists
    for m, regions in doc["availability"].items():
        if m.startswith(("a2-", "a3-highgpu", "g2-")):
            for r in regions:
                assert prices.get("gcp.compute.spot", m, r) is not None, (m, r)
    assert len(doc["availability"]) == 34  # accelerator-optimised machine types
    assert len({r for regions in doc["availability"].values() for r in regions}) >= 30
    assert len(doc["services"]["gcp.compute"]["prices"]) >= 40


def test_the_regions_and_skus_of_issue_18_are_in_the_offline_catalog() -> None:
    prices = load_catalog()
    a3 = prices.get("gcp.compute", "a3-highgpu-8g", "asia-southeast1")
    # 114.278292967 $/h x 730 h = 83,423.15 a month (GPUs and 6 TB Local SSD included)
    assert a3 is not None and a3.unit_price_usd * 730 == pytest.approx(83423.15, abs=0.01)
    assert a3.source == "gcp-billing-catalog-bundled" and a3.price_date == "2026-07-30"
    assert prices.get("gcp.compute", "a3-highgpu-8g", "europe-west4") is not None  # A3 outside US
    assert prices.get("gcp.pd", "hyperdisk-extreme", "asia-southeast1") is not None
    # 3 TB pd-ssd in asia-southeast1: 3000 x 0.187 = 561.00 a month
    assert prices.get("gcp.pd", "pd-ssd", "asia-southeast1").unit_price_usd * 3000 == pytest.approx(561.0)
    spot = prices.get("gcp.compute.spot", "g2-standard-8", "us-central1")
    assert (
        spot is not None
        and spot.unit_price_usd < prices.get("gcp.compute", "g2-standard-8", "us-central1").unit_price_usd
    )
    header = _gcp_doc()["sources"][0]
    assert header["licence"] == "Apache-2.0" and header["generated"].endswith("2026")


def test_regenerating_from_a_copy_reproduces_its_prices(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import regen_catalogs
    finally:
        sys.path.pop(0)
    source = {
        "about": {"generated": "Mon Nov 30 06:00:00 2026"},
        "compute": {
            "instance": {
                "g2-standard-4": {
                    "cpu": 4,
                    "ram": 16,
                    "l4": 1,
                    "cost": {"asia-southeast1": {"hour": 0.872018928, "hour_spot": 0.523272}},
                },
                "c3-standard-4": {"cpu": 4, "ram": 16, "cost": {"us-central1": {"hour": 0.2}}},
            },
            "storage": {
                "balanced": {"cost": {"asia-southeast1": {"month": 0.11}}},
                "hyperdisk-extreme": {"cost": {"asia-southeast1": {"month": 0.154}}},
            },
        },
    }
    regions = tmp_path / "mtr.csv"
    regions.write_text(
        "NAME;CPUS;SHARED_CPU;MEMORY_GB;DEPRECATED;ZONE\n"
        "g2-standard-4;4;False;16;;asia-southeast1\ng2-standard-4;4;False;16;;me-west1\n"
    )
    doc = regen_catalogs.gcp_from_cyclenerd(source, regions, "2026-11-30")
    compute = doc["services"]["gcp.compute"]["prices"]
    assert compute == {"asia-southeast1": {"g2-standard-4": 0.872018928}}  # c3 not a GPU/used family
    assert doc["services"]["gcp.compute.spot"]["prices"]["asia-southeast1"]["g2-standard-4"] == 0.523272
    assert doc["services"]["gcp.pd"]["prices"]["asia-southeast1"] == {
        "pd-balanced": 0.11,
        "hyperdisk-extreme": 0.154,
    }
    assert doc["machine_shapes"]["g2-standard-4"] == {"cpu": 4, "ram": 16, "l4": 1}
    assert doc["gaps"] == {"g2-standard-4": ["me-west1"]}  # exists there, the copy has no price
    assert doc["price_date"] == "2026-11-30" and "Apache-2.0" in doc["source"]


def test_aws_price_list_item_parsed_as_documented() -> None:
    item = json.loads(json.dumps(aws_product("p5.48xlarge", "ap-southeast-1", 98.32)))
    offer = aws_live.parse_on_demand(item)
    assert offer == LiveOffer("aws.ec2", "ap-southeast-1", "p5.48xlarge", 98.32, "hour", "2026-11-20")
    ebs = aws_product(
        "gp3", "ap-southeast-1", 0.096, family="Storage", unit="GB-Mo", sku_field="volumeApiName"
    )
    assert aws_live.parse_on_demand(ebs, "aws.ebs").usd == 0.096


def test_gcp_unit_price_is_units_plus_nanos_and_skips_a_free_tier() -> None:
    sku = gcp_sku(
        "Nvidia H100 80GB GPU running in Singapore", "GPU", "OnDemand", ["asia-southeast1"], 11.06, "h"
    )
    assert gcp_live.unit_price(sku).usd == pytest.approx(11.06)  # units 11 + nanos 60,000,000
    sku["pricingInfo"][0]["pricingExpression"]["tieredRates"].insert(
        0, {"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": "0", "nanos": 0}}
    )
    assert gcp_live.unit_price(sku).usd == pytest.approx(11.06)


def test_cache_expires_after_its_ttl_and_remembers_unknown_skus(tmp_path: Path) -> None:
    offer = LiveOffer("aws.ec2", "us-east-1", "p5.48xlarge", 55.04, "hour", "2026-11-20")
    PriceCache(tmp_path, now=1000.0).put(
        "live:aws", "aws.ec2", "us-east-1", {"p5.48xlarge": offer, "p9.fake": None}
    )
    found, todo = PriceCache(tmp_path, ttl_s=3600, now=1000.0 + 3599).get(
        "live:aws", "aws.ec2", "us-east-1", ["p5.48xlarge", "p9.fake", "g6.xlarge"]
    )
    assert found == {"p5.48xlarge": offer, "p9.fake": None} and todo == ["g6.xlarge"]
    _, todo = PriceCache(tmp_path, ttl_s=3600, now=1000.0 + 3601).get(
        "live:aws", "aws.ec2", "us-east-1", ["p5.48xlarge"]
    )
    assert todo == ["p5.48xlarge"]
    (tmp_path / next(p.name for p in tmp_path.iterdir())).write_text("{not json")
    assert PriceCache(tmp_path, now=1000.0).get("live:aws", "aws.ec2", "us-east-1", ["p5.48xlarge"])[1] == [
        "p5.48xlarge"
    ]
