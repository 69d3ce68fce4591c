"""What a Kubernetes GPU node costs per hour, and per GPU-hour.

In order: the node's own `aifinops.io/gpu-hourly-usd` label (an on-prem chargeback rate set by
the cluster's admins), a per-label rate from the config (for on-prem pools or negotiated prices), the cloud
catalog for the node's instance type (`node.kubernetes.io/instance-type`; AWS when the
providerID says `aws://`, Google Cloud for `gce://`, else whichever catalog knows the type), then
the configured on-prem rate per GPU-hour. Config (section `kubernetes`):

    kubernetes:
      onprem_gpu_hourly_usd: 1.80          # any GPU node no catalog prices
      onprem_price_date: "2026-10-01"      # optional, shown with the price
      gpu_hourly_usd_by_label:             # first match wins, before the catalogs
        - {label: nvidia.com/gpu.product, value: NVIDIA-A100-SXM4-80GB, gpu_hourly_usd: 2.10}
        - {label: pool, value: lab, gpu_hourly_usd: 0.90}

Pure functions of the node JSON, the catalog and the config section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.gcp.common import is_accelerator_optimised

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
GKE_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
RATE_LABEL = "aifinops.io/gpu-hourly-usd"


@dataclass(frozen=True)
class NodeRate:
    """A node's hourly price and how it was found. `node_hourly_usd` covers the whole node (for
    per-GPU rates: all its GPUs); `per_gpu_hourly_usd` is that divided by its GPUs."""

    node_hourly_usd: float
    per_gpu_hourly_usd: float
    basis: str  # e.g. "aws.ec2:g5.12xlarge:us-east-1", "config:onprem_gpu_hourly_usd"
    source: str
    price_date: str
    discount_pct: float = 0.0

    def node_line(self, gpus: int, description: str) -> CostLine:
        return CostLine(description=description, unit_price_usd=self.node_hourly_usd, unit="hour",
                        quantity=HOURS_PER_MONTH, source=self.source, price_date=self.price_date,
                        sku=self.basis, discount_pct=self.discount_pct)

    def gpu_line(self, gpus: float, description: str) -> CostLine:
        return CostLine(description=description, unit_price_usd=round(self.per_gpu_hourly_usd, 6),
                        unit="GPU-hour", quantity=gpus * HOURS_PER_MONTH, source=self.source,
                        price_date=self.price_date, sku=self.basis, discount_pct=self.discount_pct)


def _label(labels: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((labels[k] for k in keys if labels.get(k)), "")


def _cloud(provider_id: str) -> str:
    """aws, gcp, azure, or "" (on-prem, kind, bare metal: anything without a known cloud)."""
    for prefix, cloud in (("aws://", "aws"), ("gce://", "gcp"), ("azure://", "azure")):
        if provider_id.startswith(prefix):
            return cloud
    return ""


def _aws(prices: PriceCatalog, itype: str, region: str, gpus: int) -> NodeRate | None:
    price = prices.get("aws.ec2", itype, region)
    if price is None:
        return None
    return NodeRate(price.unit_price_usd, price.unit_price_usd / gpus, f"aws.ec2:{itype}:{region or '*'}",
                    price.source, price.price_date, prices.discount_for("aws.ec2"))


def _gcp(prices: PriceCatalog, machine: str, region: str, gpus: int, accel: str) -> NodeRate | None:
    price = prices.get("gcp.compute", machine, region)
    if price is None:
        return None
    hourly = price.unit_price_usd
    basis = f"gcp.compute:{machine}:{region or '*'}"
    if not is_accelerator_optimised(machine) and accel:
        gpu = prices.get("gcp.gpu", accel, region)
        if gpu is None:
            return None
        hourly += gpu.unit_price_usd * gpus
        basis = f"{basis}+{gpus}x gcp.gpu:{accel}"
    return NodeRate(hourly, hourly / gpus, basis, price.source, price.price_date,
                    prices.discount_for("gcp.compute"))


def node_rate(prices: PriceCatalog, settings: dict[str, Any], labels: dict[str, str],
              provider_id: str, gpus: int) -> NodeRate | None:
    """The price of a GPU node, or None when neither catalog nor config knows it."""
    if gpus <= 0:
        return None
    if labels.get(RATE_LABEL):
        try:
            rate = float(labels[RATE_LABEL])
        except ValueError:
            rate = -1.0
        if rate >= 0:
            return NodeRate(rate * gpus, rate, f"node-label:{RATE_LABEL}", "node-label",
                            str(settings.get("onprem_price_date", "node label")))
    for rule in settings.get("gpu_hourly_usd_by_label") or []:
        key, want = str(rule.get("label", "")), rule.get("value")
        if key in labels and (want is None or labels[key] == str(want)):
            rate = float(rule["gpu_hourly_usd"])
            value = f"={want}" if want is not None else ""
            return NodeRate(rate * gpus, rate, f"config:gpu_hourly_usd_by_label[{key}{value}]",
                            "config:kubernetes", str(settings.get("onprem_price_date", "config")))
    itype = _label(labels, INSTANCE_TYPE_LABELS)
    region = _label(labels, REGION_LABELS)
    cloud = _cloud(provider_id)
    if itype:
        accel = labels.get(GKE_ACCELERATOR_LABEL, "")
        tries = {"aws": [_aws], "gcp": [_gcp], "azure": []}.get(cloud, [_aws, _gcp])
        for attempt in tries:
            rate = (attempt(prices, itype, region, gpus) if attempt is _aws
                    else _gcp(prices, itype, region, gpus, accel))
            if rate is not None:
                return rate
    if not cloud and settings.get("onprem_gpu_hourly_usd") is not None:
        rate = float(settings["onprem_gpu_hourly_usd"])
        return NodeRate(rate * gpus, rate, "config:onprem_gpu_hourly_usd", "config:kubernetes",
                        str(settings.get("onprem_price_date", "config")))
    return None


def unpriced_sku(labels: dict[str, str], provider_id: str) -> str:
    itype = _label(labels, INSTANCE_TYPE_LABELS)
    region = _label(labels, REGION_LABELS)
    cloud = _cloud(provider_id)
    if itype:
        return f"{cloud or 'cloud'}:{itype}:{region or '*'}"
    return "kubernetes:onprem_gpu_hourly_usd (set it in the config's kubernetes section)"
