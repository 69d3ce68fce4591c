"""GCP prices read from the Cloud Billing Catalog API at scan time, against a local fake of it.

Inventory comes from the Compute Engine fake (demo/fakes/gcp.py), prices from a fake
`services.skus.list` answering the real SKU shape; amounts are worked out by hand below from the
fake's unit prices (chosen unlike the bundled ones, so the source shows).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.demo.fakes.gcp import FakeGcp, FakeProject, disk_json, instance_json, serve
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.provider import GcpSettings
from tests.fakes.price_apis import COMPUTE_SERVICE, PriceApis, gcp_sku, serve_price_apis

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=60)
P = "ml-asia"
SG, NL, IA = ["asia-southeast1"], ["europe-west4"], ["us-central1"]


def _skus() -> list[dict]:
    return [
        # A3 parts in Singapore (a3-highgpu-8g: 208 vCPU, 1872 GiB, 8 x H100, 6000 GB Local SSD)
        gcp_sku("A3 Instance Core running in Singapore", "CPU", "OnDemand", SG, 0.04, "h"),
        gcp_sku("A3 Instance Ram running in Singapore", "RAM", "OnDemand", SG, 0.005, "GiBy.h"),
        gcp_sku("Nvidia H100 80GB GPU running in Singapore", "GPU", "OnDemand", SG, 12.0, "h"),
        gcp_sku("SSD backed Local Storage in Singapore", "LocalSSD", "OnDemand", SG, 0.1, "GiBy.mo"),
        gcp_sku("Commitment v1: A3 Cpu in Singapore for 1 Year", "CPU", "Commit1Yr", SG, 0.02, "h"),
        # G2 in the Netherlands, on demand and Spot (g2-standard-8: 8 vCPU, 32 GiB, 1 x L4)
        gcp_sku("G2 Instance Core running in Netherlands", "CPU", "OnDemand", NL, 0.03, "h"),
        gcp_sku("G2 Instance Ram running in Netherlands", "RAM", "OnDemand", NL, 0.004, "GiBy.h"),
        gcp_sku("Nvidia L4 GPU running in Netherlands", "GPU", "OnDemand", NL, 0.6, "h"),
        gcp_sku(
            "Spot Preemptible G2 Instance Core running in Netherlands", "CPU", "Preemptible", NL, 0.01, "h"
        ),
        gcp_sku(
            "Spot Preemptible G2 Instance Ram running in Netherlands",
            "RAM",
            "Preemptible",
            NL,
            0.001,
            "GiBy.h",
        ),
        gcp_sku(
            "Nvidia L4 GPU attached to Spot Preemptible VMs running in Netherlands",
            "GPU",
            "Preemptible",
            NL,
            0.2,
            "h",
        ),
        # N1 + T4: Spot in Iowa (for the legacy preemptible VM), on demand in Singapore
        gcp_sku(
            "Spot Preemptible N1 Predefined Instance Core running in Americas",
            "N1Standard",
            "Preemptible",
            IA,
            0.007,
            "h",
        ),
        gcp_sku(
            "Spot Preemptible N1 Predefined Instance Ram running in Americas",
            "N1Standard",
            "Preemptible",
            IA,
            0.001,
            "GiBy.h",
        ),
        gcp_sku(
            "Nvidia Tesla T4 GPU attached to Spot Preemptible VMs running in Americas",
            "GPU",
            "Preemptible",
            IA,
            0.1,
            "h",
        ),
        gcp_sku("N1 Predefined Instance Core running in Singapore", "N1Standard", "OnDemand", SG, 0.035, "h"),
        gcp_sku(
            "N1 Predefined Instance Ram running in Singapore", "N1Standard", "OnDemand", SG, 0.0047, "GiBy.h"
        ),
        gcp_sku("Nvidia Tesla T4 GPU running in Singapore", "GPU", "OnDemand", SG, 0.37, "h"),
        # disks in Singapore: hyperdisk and pd-ssd (the regional SKU must not be taken)
        gcp_sku("Regional SSD backed PD Capacity in Singapore", "SSD", "OnDemand", SG, 0.374, "GiBy.mo"),
        gcp_sku("SSD backed PD Capacity in Singapore", "SSD", "OnDemand", SG, 0.187, "GiBy.mo"),
        gcp_sku("Hyperdisk Balanced Capacity in Singapore", "SSD", "OnDemand", SG, 0.09, "GiBy.mo"),
    ]


def _estate() -> FakeGcp:
    sg, nl, ia = "asia-southeast1-b", "europe-west4-a", "us-central1-a"
    legacy = instance_json(
        P,
        "preempt-t4",
        ia,
        "n1-standard-8",
        3,
        created=OLD,
        started=OLD,
        accelerators=[("nvidia-tesla-t4", 1)],
    )
    legacy["scheduling"] = {"preemptible": True, "automaticRestart": False}  # no provisioningModel
    ps = FakeProject()
    ps.instances[sg] = [
        instance_json(P, "idle-a3", sg, "a3-highgpu-8g", 1, created=OLD, started=OLD),
        instance_json(
            P,
            "od-t4",
            sg,
            "n1-standard-4",
            4,
            created=OLD,
            started=OLD,
            accelerators=[("nvidia-tesla-t4", 1)],
        ),
    ]
    ps.instances[nl] = [
        instance_json(P, "spot-g2", nl, "g2-standard-8", 2, created=OLD, started=OLD, spot=True)
    ]
    ps.instances[ia] = [legacy]
    ps.disks[sg] = [
        disk_json(P, "orphan-hyperdisk", sg, "hyperdisk-balanced", 1000, 11, created=OLD),
        disk_json(P, "orphan-ssd", sg, "pd-ssd", 3000, 12, created=OLD),
    ]
    return FakeGcp(projects={P: ps})


@pytest.fixture
def apis(monkeypatch, tmp_path):
    monkeypatch.setenv("AIFINOPS_PRICE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AIFINOPS_LIVE_PRICES", raising=False)
    fake = PriceApis(gcp_skus=_skus(), page_size=8)  # 20 SKUs: 3 pages
    with serve_price_apis(fake) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


def _scan(apis: PriceApis) -> dict:
    estate = _estate()
    with serve(estate) as url:
        options = ScanOptions(
            providers=["gcp"],
            settings={"gcp": GcpSettings(projects=[P], endpoints={"": url, "cloudbilling": apis.url})},
        )  # type: ignore[attr-defined]
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
        result = GcpComputeScanner(ctx).scan()
    return {"by_name": {o.name: o for o in result.observations}, "result": result, "ctx": ctx}


def test_every_sku_class_priced_from_the_billing_catalog(apis):
    got = _scan(apis)["by_name"]
    a3 = got["idle-a3"]
    # 208 x 0.04 + 1872 x 0.005 + 8 x 12.0 + 6000 GB x 0.1 / 730 h = 8.32 + 9.36 + 96 + 0.8219178
    # = 114.5019178 $/h; x 730 h = 6,073.60 + 6,832.80 + 70,080.00 + 600.00 = 83,586.40
    [line] = a3.cost_lines
    assert (line.source, line.price_date, line.sku) == (
        "live:gcp-billing-catalog",
        "2026-11-15",
        "gcp.compute:a3-highgpu-8g:asia-southeast1",
    )
    assert line.unit_price_usd == pytest.approx(8.32 + 9.36 + 96 + 6000 * 0.1 / 730)
    assert a3.monthly_cost_usd == pytest.approx(83586.40)
    # Spot G2: 8 x 0.01 + 32 x 0.001 + 0.2 = 0.312 $/h x 730 = 227.76 (on demand: 0.968 x 730)
    spot = got["spot-g2"]
    assert spot.monthly_cost_usd == pytest.approx(227.76)
    assert spot.cost_lines[0].sku == "gcp.compute.spot:g2-standard-8:europe-west4"
    # legacy preemptible n1-standard-8 + T4 at the Spot SKUs: (8 x 0.007 + 30 x 0.001) x 730
    # = 62.78, T4 0.1 x 730 = 73.00 -> 135.78; and it says what it is
    legacy = got["preempt-t4"]
    assert legacy.attributes["provisioning_model"] == "PREEMPTIBLE"
    assert [round(x.monthly_usd, 6) for x in legacy.cost_lines] == [62.78, 73.0]
    assert [x.sku for x in legacy.cost_lines] == [
        "gcp.compute.spot:n1-standard-8:us-central1",
        "gcp.gpu.spot:nvidia-tesla-t4:us-central1",
    ]
    assert any("legacy preemptible" in e for e in legacy.evidence)
    # on-demand N1 + T4 in Singapore, which the bundled catalog cannot price (no T4 row there):
    # (4 x 0.035 + 15 x 0.0047) x 730 = 153.665; T4 0.37 x 730 = 270.10 -> 423.765
    assert got["od-t4"].monthly_cost_usd == pytest.approx(153.665 + 270.10)
    # disks: hyperdisk-balanced 1000 GB x 0.09 = 90.00; pd-ssd 3000 GB x 0.187 = 561.00
    assert got["orphan-hyperdisk"].monthly_cost_usd == pytest.approx(90.0)
    assert got["orphan-ssd"].monthly_cost_usd == pytest.approx(561.0)
    assert got["orphan-ssd"].cost_lines[0].source == "live:gcp-billing-catalog"
    # the whole SKU list once: 20 SKUs at 8 a page = 3 calls
    assert apis.count("gcp") == 3
    assert all(path == f"/v1/services/{COMPUTE_SERVICE}/skus" for _, path in apis.calls)


def test_second_run_is_answered_from_the_disk_cache(apis):
    first = _scan(apis)
    assert apis.count("gcp") == 3
    second = _scan(apis)
    assert apis.count("gcp") == 3  # no call: every SKU (found or not) is cached
    # 8 SKUs wanted: a3-highgpu-8g, n1-standard-4, T4 (Singapore); Spot g2-standard-8
    # (Netherlands); Spot n1-standard-8 and T4 (Iowa); hyperdisk-balanced, pd-ssd (Singapore)
    assert first["ctx"].prices.lookups.fetched == 8 and first["ctx"].prices.lookups.api_calls == 3
    assert second["ctx"].prices.lookups.api_calls == 0
    assert second["ctx"].prices.lookups.cache_hits == 8
    a, b = first["by_name"]["idle-a3"], second["by_name"]["idle-a3"]
    assert b.monthly_cost_usd == a.monthly_cost_usd == pytest.approx(83586.40)
    assert b.cost_lines[0].price_date == "2026-11-15"


def test_denied_catalog_falls_back_to_bundled_prices_with_a_note(apis):
    apis.deny_gcp = True
    got = _scan(apis)
    a3 = got["by_name"]["idle-a3"]
    # bundled (Cyclenerd copy of 2026-07-30): a3-highgpu-8g asia-southeast1 114.278292967 x 730
    assert a3.monthly_cost_usd == pytest.approx(114.278292967 * 730)
    assert a3.cost_lines[0].source == "gcp-billing-catalog-bundled"
    assert a3.cost_lines[0].price_date == "2026-07-30"
    [scope] = got["result"].coverage
    assert "prices from the bundled catalog: Cloud Billing Catalog not read" in scope.message
    assert "PERMISSION_DENIED" in scope.message
    assert apis.count("gcp") == 1  # one failed listing per scan, not one per SKU
