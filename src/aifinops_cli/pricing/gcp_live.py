"""The Cloud Billing Catalog API (`services.skus.list`), read for the SKUs a scan saw.

Compute Engine (service `6F81-5844-456A`) does not price machine types as such: a VM bills its
vCPUs and memory at its family's "Instance Core" / "Instance Ram" SKUs, plus GPUs and bundled
Local SSD at theirs, each listed per region (`serviceRegions`) with `usageType` `OnDemand` or
`Preemptible` (the "Spot Preemptible ..." SKUs, which Spot and legacy preemptible VMs both pay).
So a machine type's hourly price here is vCPUs x core + GiB x RAM + GPUs x GPU + Local SSD GB x
its GB-hour, from the shapes in the bundled catalog (`machine_shapes`, from the Compute Engine
API). The SKU list has no server-side filter: it is read once per scan (paged, 5,000 a page)
and only when the disk cache lacks an answer. Unit prices are `units + nanos / 1e9` USD, the
date is the SKU's `pricingInfo.effectiveTime`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aifinops_cli.core.models import HOURS_PER_MONTH
from aifinops_cli.errors import AifinopsError
from aifinops_cli.pricing.live import LIVE_GCP, LiveOffer, LookupStats, PriceCache

COMPUTE_SERVICE = "6F81-5844-456A"
DEFAULT_ENDPOINT = "https://cloudbilling.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/cloud-billing.readonly"]
PAGE_SIZE = 5000
# GPU names in the SKU descriptions, by Compute Engine accelerator type and by the GPU keys of
# the catalog's machine shapes
GPU_NAMES = {
    "nvidia-tesla-t4": "Nvidia Tesla T4",
    "nvidia-tesla-v100": "Nvidia Tesla V100",
    "nvidia-tesla-p100": "Nvidia Tesla P100",
    "nvidia-tesla-p4": "Nvidia Tesla P4",
    "nvidia-tesla-a100": "Nvidia Tesla A100",
    "nvidia-a100-80gb": "Nvidia Tesla A100 80GB",
    "nvidia-h100-80gb": "Nvidia H100 80GB",
    "nvidia-h100-mega-80gb": "Nvidia H100 80GB Mega",
    "nvidia-l4": "Nvidia L4",
    "a100": "Nvidia Tesla A100",
    "a100-80gb": "Nvidia Tesla A100 80GB",
    "h100-80gb": "Nvidia H100 80GB",
    "h100-80gb-mega": "Nvidia H100 80GB Mega",
    "l4": "Nvidia L4",
}
DISK_NAMES = {
    "pd-standard": "Storage PD Capacity",
    "pd-ssd": "SSD backed PD Capacity",
    "pd-balanced": "Balanced PD Capacity",
    "pd-extreme": "Extreme PD Capacity",
    "hyperdisk-balanced": "Hyperdisk Balanced Capacity",
    "hyperdisk-extreme": "Hyperdisk Extreme Capacity",
    "hyperdisk-throughput": "Hyperdisk Throughput Capacity",
    "hyperdisk-ml": "Hyperdisk ML Capacity",
}
_SHAPE_KEYS = {"cpu", "ram", "local-ssd", "type"}


@dataclass(frozen=True)
class Rate:
    usd: float
    unit: str
    effective: str


def unit_price(sku: dict[str, Any]) -> Rate | None:
    """The first non-zero tier of the SKU's current pricing (a free tier comes first)."""
    for info in sku.get("pricingInfo", [])[:1]:
        expr = info.get("pricingExpression", {})
        for tier in expr.get("tieredRates", []):
            money = tier.get("unitPrice", {})
            usd = int(money.get("units") or 0) + int(money.get("nanos") or 0) / 1e9
            if usd > 0:
                return Rate(usd, expr.get("usageUnit", ""), str(info.get("effectiveTime", ""))[:10])
    return None


class SkuIndex:
    """The Compute Engine SKUs by (description prefix, usage type, region): what pricing needs."""

    def __init__(self, skus: Iterable[dict[str, Any]]) -> None:
        self._by_region: dict[str, list[tuple[str, str, Rate]]] = {}
        for sku in skus:
            rate = unit_price(sku)
            if rate is None:
                continue
            usage = sku.get("category", {}).get("usageType", "")
            for region in sku.get("serviceRegions", []):
                self._by_region.setdefault(region, []).append((sku.get("description", ""), usage, rate))

    def find(self, region: str, prefix: str, usage: str, exclude: str = "") -> Rate | None:
        for description, used, rate in self._by_region.get(region, []):
            if used == usage and description.startswith(prefix) and not (exclude and exclude in description):
                return rate
        return None


def _family_prefixes(machine_type: str) -> tuple[str, str]:
    family = machine_type.split("-", 1)[0].upper()
    if family == "N1":
        return "N1 Predefined Instance Core running in", "N1 Predefined Instance Ram running in"
    return f"{family} Instance Core running in", f"{family} Instance Ram running in"


def machine_offer(
    index: SkuIndex, region: str, machine_type: str, shape: dict[str, Any], spot: bool
) -> LiveOffer | None:
    """vCPUs x core + GiB x RAM + GPUs x GPU + Local SSD GB-hours; None if a part is unlisted."""
    usage = "Preemptible" if spot else "OnDemand"
    lead = "Spot Preemptible " if spot else ""
    core_p, ram_p = _family_prefixes(machine_type)
    core = index.find(region, lead + core_p, usage)
    ram = index.find(region, lead + ram_p, usage)
    if core is None or ram is None:
        return None
    total = float(shape.get("cpu", 0)) * core.usd + float(shape.get("ram", 0)) * ram.usd
    dates = [core.effective, ram.effective]
    for key, count in shape.items():
        if key in _SHAPE_KEYS:
            continue
        gpu = gpu_rate(index, region, key, spot)
        if gpu is None:
            return None
        total += float(count) * gpu.usd
        dates.append(gpu.effective)
    ssd_gb = float(shape.get("local-ssd") or 0)
    if ssd_gb:
        ssd = (
            index.find(region, "SSD backed Local Storage attached to Spot Preemptible", usage)
            if spot
            else index.find(region, "SSD backed Local Storage", usage, exclude="Spot")
        )
        if ssd is None:
            return None
        total += ssd_gb * ssd.usd / HOURS_PER_MONTH  # GiB-month -> per hour
        dates.append(ssd.effective)
    service = "gcp.compute.spot" if spot else "gcp.compute"
    return LiveOffer(service, region, machine_type, round(total, 9), "hour", max(dates))


def gpu_rate(index: SkuIndex, region: str, accelerator: str, spot: bool) -> Rate | None:
    name = GPU_NAMES.get(accelerator)
    if name is None:
        return None
    if spot:
        return index.find(region, f"{name} GPU attached to Spot Preemptible", "Preemptible")
    return index.find(region, f"{name} GPU running in", "OnDemand")


def disk_offer(index: SkuIndex, region: str, disk_type: str) -> LiveOffer | None:
    name = DISK_NAMES.get(disk_type)
    rate = index.find(region, name, "OnDemand") if name else None
    if rate is None:
        return None
    return LiveOffer("gcp.pd", region, disk_type, rate.usd, "GB-month", rate.effective)


def offer_for(
    index: SkuIndex, service: str, region: str, sku: str, shapes: dict[str, dict[str, Any]]
) -> LiveOffer | None:
    if service in ("gcp.compute", "gcp.compute.spot"):
        shape = shapes.get(sku)
        return machine_offer(index, region, sku, shape, service.endswith("spot")) if shape else None
    if service in ("gcp.gpu", "gcp.gpu.spot"):
        rate = gpu_rate(index, region, sku, service.endswith("spot"))
        return None if rate is None else LiveOffer(service, region, sku, rate.usd, "GPU-hour", rate.effective)
    if service == "gcp.pd":
        return disk_offer(index, region, sku)
    return None


def list_skus(session: Any, endpoint: str, stats: LookupStats, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Every Compute Engine SKU, page by page (`session` is a google-auth AuthorizedSession)."""
    skus: list[dict[str, Any]] = []
    token = ""
    while True:
        params = {"currencyCode": "USD", "pageSize": str(PAGE_SIZE)}
        if token:
            params["pageToken"] = token
        resp = session.get(f"{endpoint}/v1/services/{COMPUTE_SERVICE}/skus", params=params, timeout=timeout)
        stats.add(calls=1)
        if resp.status_code != 200:
            raise CatalogError(_error_text(resp))
        doc = resp.json()
        skus.extend(doc.get("skus", []))
        token = doc.get("nextPageToken") or ""
        if not token:
            return skus


class CatalogError(AifinopsError):
    """The Cloud Billing Catalog answered with an error."""


def _error_text(resp: Any) -> str:
    try:
        err = resp.json().get("error", {})
        message = err.get("message", "")
        status = err.get("status", "")
    except ValueError:
        message, status = resp.text[:200], ""
    message = re.sub(r"\s+", " ", str(message)).strip()
    return f"HTTP {resp.status_code} {status}: {message}".strip()


def lookup(
    wanted: dict[tuple[str, str], set[str]],
    cache: PriceCache,
    stats: LookupStats,
    load_index: Any,
    shapes: dict[str, dict[str, Any]],
) -> list[LiveOffer]:
    """Prices for `wanted` ((service, region) -> SKUs): cached ones, the rest from one listing.

    `load_index()` lists the catalog (memoised by the caller, so a scan lists it once).
    """
    offers: list[LiveOffer] = []
    missing: dict[tuple[str, str], list[str]] = {}
    for (service, region), skus in sorted(wanted.items()):
        found, todo = cache.get(LIVE_GCP, service, region, sorted(skus))
        stats.add(hits=len(found))
        offers.extend(o for o in found.values() if o is not None)
        if todo:
            missing[(service, region)] = todo
    if not missing:
        return offers
    index = load_index()
    for (service, region), todo in missing.items():
        answers = {sku: offer_for(index, service, region, sku, shapes) for sku in todo}
        stats.add(fetched=sum(1 for o in answers.values() if o is not None))
        cache.put(LIVE_GCP, service, region, answers)
        offers.extend(o for o in answers.values() if o is not None)
    return offers
