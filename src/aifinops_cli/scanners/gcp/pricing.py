"""Google Cloud cost lines from the price catalog (`pricing/data/gcp*.yaml`, or the Cloud
Billing Catalog read at scan time, see `pricing/gcp_live.py`).

Pure functions: the Kubernetes scanner prices GKE nodes with the same ones.

Spot and legacy preemptible VMs bill at the Spot SKUs of the Cloud Billing Catalog (Compute
Engine's "Spot Preemptible ..." SKUs, usageType `Preemptible`; preemptible VMs have used the
Spot prices since Spot VMs launched), kept in the catalog as `gcp.compute.spot` per machine type
and `gcp.gpu.spot` per attached GPU. Where the catalog has no Spot price the on-demand price is
used and the line says so: an upper bound, never a guess.
"""

from __future__ import annotations

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.gcp.common import is_accelerator_optimised

SPOT_MODELS = ("SPOT", "PREEMPTIBLE")


def _priced(prices: PriceCatalog, service: str, sku: str, region: str, quantity: float,
            label: str, spot: bool) -> tuple[CostLine | None, bool]:
    """The Spot line when asked and known, else on demand. Returns (line, priced at Spot)."""
    if spot:
        line = prices.line(f"{service}.spot", sku, region, quantity, f"{label} Spot")
        if line is not None:
            return line, True
        label = f"{label} on-demand (no Spot price in the catalog: an upper bound)"
    else:
        label = f"{label} on-demand"
    return prices.line(service, sku, region, quantity, label), False


def instance_lines(prices: PriceCatalog, region: str, machine_type: str,
                   accelerators: tuple[tuple[str, int], ...], hours: float = HOURS_PER_MONTH,
                   spot: bool = False) -> tuple[list[CostLine], list[str]]:
    """The machine type per hour, plus attached GPUs per GPU-hour (A2/A3/G2 prices include
    theirs), at Spot prices when `spot`. Returns the lines and the SKUs the catalog does not know."""
    lines: list[CostLine] = []
    missing: list[str] = []
    line, _ = _priced(prices, "gcp.compute", machine_type, region, hours, machine_type, spot)
    if line is None:
        missing.append(f"gcp.compute:{machine_type}:{region}")
    else:
        lines.append(line)
    if not is_accelerator_optimised(machine_type):
        for accel, count in accelerators:
            gpu, _ = _priced(prices, "gcp.gpu", accel, region, hours * count,
                             f"{count} x {accel} attached", spot)
            if gpu is None:
                missing.append(f"gcp.gpu:{accel}:{region}")
            else:
                lines.append(gpu)
    return lines, missing


def disk_line(prices: PriceCatalog, region: str, disk_type: str, size_gb: float,
              regional: bool = False) -> CostLine | None:
    """Provisioned capacity per GB-month; regional disks are billed twice (two replicas)."""
    quantity = float(size_gb) * (2 if regional else 1)
    note = " (regional, 2 replicas)" if regional else ""
    return prices.line("gcp.pd", disk_type, region, quantity, f"{disk_type} {size_gb} GB{note}")
