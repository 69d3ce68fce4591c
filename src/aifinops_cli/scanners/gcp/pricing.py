"""Google Cloud cost lines from the bundled catalog (`pricing/data/gcp.yaml`).

Pure functions: the Kubernetes scanner prices GKE nodes with the same ones.
"""

from __future__ import annotations

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.gcp.common import is_accelerator_optimised


def instance_lines(prices: PriceCatalog, region: str, machine_type: str,
                   accelerators: tuple[tuple[str, int], ...], hours: float = HOURS_PER_MONTH
                   ) -> tuple[list[CostLine], list[str]]:
    """The machine type per hour, plus attached GPUs per GPU-hour (A2/A3/G2 prices include
    theirs). Returns the lines and the SKUs the catalog does not know."""
    lines: list[CostLine] = []
    missing: list[str] = []
    line = prices.line("gcp.compute", machine_type, region, hours, f"{machine_type} on-demand")
    if line is None:
        missing.append(f"gcp.compute:{machine_type}:{region}")
    else:
        lines.append(line)
    if not is_accelerator_optimised(machine_type):
        for accel, count in accelerators:
            gpu = prices.line("gcp.gpu", accel, region, hours * count, f"{count} x {accel} attached")
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
