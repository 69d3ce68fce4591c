"""GKE Spot and legacy preemptible node pools bill at the Cloud Billing Catalog's Spot SKUs, as
Compute Engine's own Spot VMs do; against the local GCP fake through the real clients, priced
from the bundled catalog (pricing/data/gcp.yaml, dated 2026-07-30), amounts computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.demo.fakes.gcp import (
    FakeGcp,
    FakeProject,
    cluster_json,
    instance_json,
    node_pool_json,
    serve,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import PREEMPTIBLE_NOTE, SPOT_PRICED_NOTE
from aifinops_cli.scanners.gcp.gke import GkeGpuNodePoolScanner
from aifinops_cli.scanners.gcp.provider import GcpSettings

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=60)
P = "ml-gke-spot"
ZONE = "us-central1-a"


def _labels(pool: str) -> dict[str, str]:
    return {"goog-gke-node": "", "goog-k8s-cluster-name": "train", "goog-k8s-node-pool-name": pool}


def estate() -> FakeGcp:
    proj = FakeProject()
    proj.instances[ZONE] = [
        *(
            instance_json(
                P,
                f"gke-train-spot-g2-{n}",
                ZONE,
                "g2-standard-8",
                100 + n,
                labels=_labels("spot-g2"),
                created=OLD,
                started=OLD,
                spot=True,
            )
            for n in range(4)
        ),
        *(
            instance_json(
                P,
                f"gke-train-od-g2-{n}",
                ZONE,
                "g2-standard-8",
                200 + n,
                labels=_labels("od-g2"),
                created=OLD,
                started=OLD,
            )
            for n in range(2)
        ),
        instance_json(
            P,
            "gke-train-pre-t4-0",
            ZONE,
            "n1-standard-4",
            300,
            labels=_labels("pre-t4"),
            accelerators=[("nvidia-tesla-t4", 1)],
            created=OLD,
            started=OLD,
        ),
    ]
    legacy = node_pool_json(
        "pre-t4", "n1-standard-4", accelerators=[("nvidia-tesla-t4", 1)], locations=[ZONE]
    )
    legacy["config"]["preemptible"] = True  # the legacy flag alone (its VMs report STANDARD here)
    proj.clusters = [
        cluster_json(
            P,
            "train",
            "us-central1",
            [
                node_pool_json(
                    "spot-g2",
                    "g2-standard-8",
                    accelerators=[("nvidia-l4", 1)],
                    node_count=4,
                    locations=[ZONE],
                    spot=True,
                ),
                node_pool_json(
                    "od-g2", "g2-standard-8", accelerators=[("nvidia-l4", 1)], node_count=2, locations=[ZONE]
                ),
                legacy,
            ],
            locations=[ZONE],
        )
    ]
    return FakeGcp(projects={P: proj})


@pytest.fixture(scope="module")
def pools():
    with serve(estate()) as url:
        options = ScanOptions(
            providers=["gcp"],
            lookback_days=14,
            settings={"gcp": GcpSettings(projects=[P], endpoints={"": url})},
        )
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
        result = GkeGpuNodePoolScanner(ctx).scan()
    return {o.id: o for o in result.observations}


def test_spot_pool_is_priced_at_spot_skus(pools) -> None:
    g2 = pools["train/spot-g2"]
    # 4 nodes x g2-standard-8 Spot 0.479872/h x 730 h = 1,401.22624 (the L4 is in the machine
    # price); on demand it would be 4 x 0.853624271 x 730 = 2,492.58287 (78% more)
    assert g2.monthly_cost_usd == pytest.approx(4 * 0.479872 * 730)
    assert g2.monthly_cost_usd == pytest.approx(1401.22624)
    assert {line.sku for line in g2.cost_lines} == {"gcp.compute.spot:g2-standard-8:us-central1"}
    assert all(line.description == "g2-standard-8 Spot" for line in g2.cost_lines)
    assert all(
        line.source == "gcp-billing-catalog-bundled" and line.price_date == "2026-07-30"
        for line in g2.cost_lines
    )
    assert SPOT_PRICED_NOTE in g2.evidence and g2.attributes["spot"] is True


def test_on_demand_pool_stays_on_demand(pools) -> None:
    od = pools["train/od-g2"]
    # 2 x 0.853624271 x 730 = 1,246.29143566
    assert od.monthly_cost_usd == pytest.approx(2 * 0.853624271 * 730)
    assert {line.sku for line in od.cost_lines} == {"gcp.compute:g2-standard-8:us-central1"}
    assert not any("Spot" in e for e in od.evidence)


def test_legacy_preemptible_pool_at_spot_with_upper_bound_where_no_spot_price(pools) -> None:
    t4 = pools["train/pre-t4"]
    by_sku = {line.sku: line for line in t4.cost_lines}
    # n1-standard-4 Spot 0.06701 x 730 = 48.9173; the bundled catalog has no Spot T4 price, so
    # the T4 is on demand, 0.35 x 730 = 255.5, and its line says it is an upper bound
    assert by_sku["gcp.compute.spot:n1-standard-4:us-central1"].monthly_usd == pytest.approx(48.9173)
    gpu = by_sku["gcp.gpu:nvidia-tesla-t4:us-central1"]
    assert gpu.monthly_usd == pytest.approx(255.5) and "an upper bound" in gpu.description
    assert t4.monthly_cost_usd == pytest.approx(48.9173 + 255.5)
    assert PREEMPTIBLE_NOTE in t4.evidence


def test_spot_pool_priced_live_from_the_billing_catalog(monkeypatch, tmp_path) -> None:
    """GKE nodes are left out of gcp.compute's price lookup, so the GKE scanner reads the Cloud
    Billing Catalog for them itself, at the Spot SKUs for a Spot pool."""
    from tests.fakes.price_apis import PriceApis, gcp_sku, serve_price_apis

    monkeypatch.setenv("AIFINOPS_PRICE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("AIFINOPS_LIVE_PRICES", raising=False)
    nl = ["europe-west4"]
    skus = [
        gcp_sku("G2 Instance Core running in Netherlands", "CPU", "OnDemand", nl, 0.03, "h"),
        gcp_sku("G2 Instance Ram running in Netherlands", "RAM", "OnDemand", nl, 0.004, "GiBy.h"),
        gcp_sku("Nvidia L4 GPU running in Netherlands", "GPU", "OnDemand", nl, 0.6, "h"),
        gcp_sku(
            "Spot Preemptible G2 Instance Core running in Netherlands", "CPU", "Preemptible", nl, 0.01, "h"
        ),
        gcp_sku(
            "Spot Preemptible G2 Instance Ram running in Netherlands",
            "RAM",
            "Preemptible",
            nl,
            0.001,
            "GiBy.h",
        ),
        gcp_sku(
            "Nvidia L4 GPU attached to Spot Preemptible VMs running in Netherlands",
            "GPU",
            "Preemptible",
            nl,
            0.2,
            "h",
        ),
    ]
    zone = "europe-west4-a"
    proj = FakeProject()
    proj.instances[zone] = [
        instance_json(
            P,
            f"gke-eu-spot-g2-{n}",
            zone,
            "g2-standard-8",
            500 + n,
            labels={**_labels("spot-g2"), "goog-k8s-cluster-name": "eu"},
            created=OLD,
            started=OLD,
            spot=True,
        )
        for n in range(2)
    ]
    proj.clusters = [
        cluster_json(
            P,
            "eu",
            "europe-west4",
            [
                node_pool_json(
                    "spot-g2",
                    "g2-standard-8",
                    accelerators=[("nvidia-l4", 1)],
                    node_count=2,
                    locations=[zone],
                    spot=True,
                )
            ],
            locations=[zone],
        )
    ]
    fake = PriceApis(gcp_skus=skus)
    with serve_price_apis(fake) as billing, serve(FakeGcp(projects={P: proj})) as url:
        options = ScanOptions(
            providers=["gcp"],
            lookback_days=14,
            settings={"gcp": GcpSettings(projects=[P], endpoints={"": url, "cloudbilling": billing})},
        )
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
        result = GkeGpuNodePoolScanner(ctx).scan()
    pool = {o.id: o for o in result.observations}["eu/spot-g2"]
    # Spot G2 from the fake's SKUs: 8 vCPU x 0.01 + 32 GiB x 0.001 + 1 L4 x 0.2 = 0.312 $/h;
    # 2 nodes x 0.312 x 730 = 455.52 (on demand: 2 x (0.24 + 0.128 + 0.6) x 730 = 1,413.28)
    assert pool.monthly_cost_usd == pytest.approx(2 * 0.312 * 730)
    assert pool.monthly_cost_usd == pytest.approx(455.52)
    assert {line.sku for line in pool.cost_lines} == {"gcp.compute.spot:g2-standard-8:europe-west4"}
    assert all(line.source != "gcp-billing-catalog-bundled" for line in pool.cost_lines)
