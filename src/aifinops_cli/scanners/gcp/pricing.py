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

import os
from typing import Any

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing import gcp_live, live
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.gcp import common
from aifinops_cli.scanners.gcp.common import is_accelerator_optimised

SPOT_MODELS = ("SPOT", "PREEMPTIBLE")


def _priced(
    prices: PriceCatalog, service: str, sku: str, region: str, quantity: float, label: str, spot: bool
) -> tuple[CostLine | None, bool]:
    """The Spot line when asked and known, else on demand. Returns (line, priced at Spot)."""
    if spot:
        line = prices.line(f"{service}.spot", sku, region, quantity, f"{label} Spot")
        if line is not None:
            return line, True
        label = f"{label} on-demand (no Spot price in the catalog: an upper bound)"
    else:
        label = f"{label} on-demand"
    return prices.line(service, sku, region, quantity, label), False


def instance_lines(
    prices: PriceCatalog,
    region: str,
    machine_type: str,
    accelerators: tuple[tuple[str, int], ...],
    hours: float = HOURS_PER_MONTH,
    spot: bool = False,
) -> tuple[list[CostLine], list[str]]:
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
            gpu, _ = _priced(
                prices, "gcp.gpu", accel, region, hours * count, f"{count} x {accel} attached", spot
            )
            if gpu is None:
                missing.append(f"gcp.gpu:{accel}:{region}")
            else:
                lines.append(gpu)
    return lines, missing


def disk_line(
    prices: PriceCatalog, region: str, disk_type: str, size_gb: float, regional: bool = False
) -> CostLine | None:
    """Provisioned capacity per GB-month; regional disks are billed twice (two replicas)."""
    quantity = float(size_gb) * (2 if regional else 1)
    note = " (regional, 2 replicas)" if regional else ""
    return prices.line("gcp.pd", disk_type, region, quantity, f"{disk_type} {size_gb} GB{note}")


def billing_endpoint(endpoints: dict[str, str]) -> str:
    """`GcpSettings.endpoints["cloudbilling"]` / `$AIFINOPS_GCP_CLOUDBILLING_ENDPOINT`, else ""."""
    return str(
        endpoints.get("cloudbilling") or os.environ.get("AIFINOPS_GCP_CLOUDBILLING_ENDPOINT") or ""
    ).rstrip("/")


def live_prices_enabled(ctx: Any) -> bool:
    """Config/env first; else yes against Google, no when the GCP endpoints point at a fake
    (tests, the demo) unless the Cloud Billing Catalog's own endpoint is given."""
    settings = ctx.settings("gcp")
    explicit = settings.live_prices
    if explicit is None:
        explicit = live.setting(ctx.config.pricing)
    if explicit is not None:
        return bool(explicit)
    return bool(billing_endpoint(settings.endpoints)) or not common.endpoint_overrides(settings.endpoints)


def read_list_prices(ctx: Any, instances: list[common.GceInstance], disks: list[common.GceDisk]) -> str:
    """Price the machine types, GPUs and disk types seen from the Cloud Billing Catalog.

    The catalog is listed at most once per scan (memoised across projects) and only for SKUs the
    on-disk cache lacks. Returns "" or one line saying why the bundled catalog was used.
    """
    if not live_prices_enabled(ctx):
        return ""
    wanted: dict[tuple[str, str], set[str]] = {}
    for inst in instances:
        spot = inst.provisioning_model in SPOT_MODELS
        kind = ".spot" if spot else ""
        wanted.setdefault((f"gcp.compute{kind}", inst.region), set()).add(inst.machine_type)
        if not is_accelerator_optimised(inst.machine_type):
            for accel, _ in inst.accelerators:
                wanted.setdefault((f"gcp.gpu{kind}", inst.region), set()).add(accel)
    for disk in disks:
        wanted.setdefault(("gcp.pd", disk.region), set()).add(disk.disk_type)
    if not wanted:
        return ""
    endpoint = billing_endpoint(ctx.settings("gcp").endpoints) or gcp_live.DEFAULT_ENDPOINT

    def load_index() -> gcp_live.SkuIndex:
        def listing() -> gcp_live.SkuIndex | str:
            import google.auth.exceptions
            import requests

            try:
                return gcp_live.SkuIndex(
                    gcp_live.list_skus(_session(ctx, endpoint), endpoint, ctx.prices.lookups)
                )
            except (
                gcp_live.CatalogError,
                requests.RequestException,
                ValueError,
                google.auth.exceptions.GoogleAuthError,
            ) as exc:
                return _explain(exc)

        got = ctx.memo(("gcp-billing-catalog", endpoint), listing)
        if isinstance(got, str):
            raise gcp_live.CatalogError(got)
        return got

    cache = live.PriceCache(live.cache_dir(ctx.config.pricing))
    try:
        offers = gcp_live.lookup(wanted, cache, ctx.prices.lookups, load_index, ctx.prices.machine_shapes)
    except gcp_live.CatalogError as exc:
        return f"prices from the bundled catalog: Cloud Billing Catalog not read ({exc})"
    ctx.prices.add_live(offers, live.LIVE_GCP)
    return ""


def _session(ctx: Any, endpoint: str) -> Any:
    """An API key (`$AIFINOPS_GCP_BILLING_API_KEY`) if given, else Application Default
    Credentials; anonymous against an overridden endpoint (a fake)."""
    from google.auth.transport.requests import AuthorizedSession

    key = os.environ.get("AIFINOPS_GCP_BILLING_API_KEY", "")
    if key:
        import requests

        session = requests.Session()
        session.params = {"key": key}
        return session
    if billing_endpoint(ctx.settings("gcp").endpoints):
        from google.auth.credentials import AnonymousCredentials

        return AuthorizedSession(AnonymousCredentials())
    import google.auth

    credentials, _ = google.auth.default(scopes=gcp_live.SCOPES)
    return AuthorizedSession(credentials)


def _explain(exc: BaseException) -> str:
    import google.auth.exceptions

    if isinstance(exc, gcp_live.CatalogError):
        return str(exc)
    if isinstance(exc, google.auth.exceptions.DefaultCredentialsError):
        return "no Google Cloud credentials found"
    return f"{type(exc).__name__}: {exc}"[:300]
