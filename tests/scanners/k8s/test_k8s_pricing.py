"""Node GPU rates: catalog by instance type (AWS, GKE), config and node-label rates for on-prem."""

from __future__ import annotations

import pytest

from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.k8s.pricing import node_rate, unpriced_sku

PRICES = load_catalog()


def test_gke_n1_with_attached_t4s() -> None:
    labels = {
        "node.kubernetes.io/instance-type": "n1-standard-16",
        "topology.kubernetes.io/region": "us-east1",
        "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
    }
    rate = node_rate(PRICES, {}, labels, "gce://p/us-east1-b/n", 4)
    assert rate is not None
    # n1-standard-16 0.759996 + 4 x T4 0.35 = 2.159996/h; per GPU 0.539999
    assert rate.node_hourly_usd == pytest.approx(2.159996)
    assert rate.per_gpu_hourly_usd == pytest.approx(0.539999)


def test_gke_a2_price_includes_its_gpus() -> None:
    labels = {
        "node.kubernetes.io/instance-type": "a2-highgpu-2g",
        "topology.kubernetes.io/region": "us-central1",
        "cloud.google.com/gke-accelerator": "nvidia-tesla-a100",
    }
    rate = node_rate(PRICES, {}, labels, "gce://p/us-central1-a/n", 2)
    assert rate is not None and rate.node_hourly_usd == pytest.approx(7.34677)  # no GPU added on top


def test_onprem_rates_and_what_stays_unpriced() -> None:
    settings = {
        "onprem_gpu_hourly_usd": 1.25,
        "gpu_hourly_usd_by_label": [{"label": "pool", "value": "h100", "gpu_hourly_usd": 3.0}],
    }
    assert node_rate(PRICES, settings, {"pool": "h100"}, "", 8).node_hourly_usd == pytest.approx(24.0)
    assert node_rate(PRICES, settings, {}, "", 4).node_hourly_usd == pytest.approx(5.0)
    # the node's own label beats the config
    labelled = node_rate(PRICES, settings, {"aifinops.io/gpu-hourly-usd": "2", "pool": "h100"}, "", 2)
    assert labelled.node_hourly_usd == pytest.approx(4.0) and labelled.source == "node-label"
    # a cloud node of a type the catalog lacks is not priced as on-prem
    azure = {
        "node.kubernetes.io/instance-type": "Standard_NC24ads_A100_v4",
        "topology.kubernetes.io/region": "eastus",
    }
    assert node_rate(PRICES, settings, azure, "azure:///subscriptions/x", 1) is None
    assert node_rate(PRICES, {}, {}, "", 4) is None
    assert unpriced_sku(azure, "azure:///x") == "azure:Standard_NC24ads_A100_v4:eastus"
