"""Price catalogs: one place for every price.

A catalog file (YAML, under `pricing/data/`) names its source and the date its prices are valid
for, then lists unit prices per service, region and SKU. Lookups return a `CostLine` that carries
all of that, so each dollar in a report says where it came from. User overrides (a negotiated
price, a discount) come from the config and are recorded in the line as well. Between the two sits
the live layer: prices read at scan time from the clouds' own price lists (`live.py`,
`aws_live.py`, `gcp_live.py`), which beat the bundled files and say so in their source.
"""

from __future__ import annotations

import copy
import functools
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from aifinops_cli.core.models import CostLine
from aifinops_cli.core.yamlsrc import Located, check_schema, load_one, read_text
from aifinops_cli.pricing.live import LIVE_AWS, LIVE_GCP, LiveOffer, LookupStats
from aifinops_cli.pricing.schema import CATALOG_VALIDATOR, PRICING_VALIDATOR, dates_as_text, non_finite

if TYPE_CHECKING:
    from aifinops_cli.core.config import Config

LIVE_DESCRIPTIONS = {
    LIVE_AWS: "AWS Price List API (pricing:GetProducts), read at scan time for the SKUs seen",
    LIVE_GCP: "Cloud Billing Catalog API (services.skus.list, Compute Engine), read at scan time",
}


@dataclass(frozen=True)
class Price:
    unit_price_usd: float
    unit: str
    source: str
    price_date: str
    sku: str


Tables = dict[str, dict[str, dict[str, Price]]]  # service -> region -> sku -> Price; region "*": everywhere


@dataclass
class PriceCatalog:
    _prices: Tables = field(default_factory=dict)
    _overrides: Tables = field(default_factory=dict)
    discount_pct: dict[str, float] = field(default_factory=dict)  # service or "*" -> pct
    catalogs: list[dict[str, str]] = field(default_factory=list)
    # prices read at scan time from the clouds' price lists (pricing/live.py), per region only
    _live: dict[str, dict[str, dict[str, Price]]] = field(default_factory=dict)
    _live_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    lookups: LookupStats = field(default_factory=LookupStats)
    # machine type -> vCPUs, GiB, GPUs, Local SSD GB (gcp.yaml): to price them from SKU parts
    machine_shapes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # service -> SKU prefixes whose row already includes the machine's GPUs (gcp_ai.yaml)
    accelerators_included: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def copy(self) -> PriceCatalog:
        """A catalog with its own tables (the Price rows, immutable, are shared), without the
        live prices and lookup counts of a scan."""

        def tables(by_service: Tables) -> Tables:
            return {s: {r: dict(skus) for r, skus in regions.items()} for s, regions in by_service.items()}

        return PriceCatalog(
            _prices=tables(self._prices),
            _overrides=tables(self._overrides),
            discount_pct=dict(self.discount_pct),
            catalogs=[dict(c) for c in self.catalogs],
            machine_shapes=copy.deepcopy(self.machine_shapes),
            accelerators_included=dict(self.accelerators_included),
        )

    def add_catalog(self, doc: dict[str, Any], origin: str) -> None:
        if isinstance(doc, dict) and isinstance(doc.get("machine_shapes"), dict):
            self.machine_shapes.update(doc["machine_shapes"])
        if isinstance(doc, dict) and isinstance(doc.get("accelerators_included"), dict):
            for service, prefixes in doc["accelerators_included"].items():
                known = self.accelerators_included.get(service, ())
                self.accelerators_included[service] = (*known, *(str(p) for p in prefixes))
        if not isinstance(doc, dict) or not doc.get("services"):
            return  # a data file beside the catalogs (model tiers, AI services) holds no prices
        source = str(doc["catalog"])
        date = str(doc["price_date"])
        self.catalogs.append(
            {"catalog": source, "price_date": date, "source": str(doc.get("source", "")), "file": origin}
        )
        for service, spec in doc.get("services", {}).items():
            unit = spec["unit"]
            for region, skus in spec["prices"].items():
                bucket = self._prices.setdefault(service, {}).setdefault(region, {})
                for sku, value in skus.items():
                    bucket[str(sku)] = Price(float(value), unit, source, date, str(sku))

    def apply_overrides(self, overrides: list[dict[str, Any]], discounts: dict[str, float]) -> None:
        """Config overrides: custom prices replace catalog ones and say so in their source."""
        for item in overrides:
            service, sku = item["service"], str(item["sku"])
            region = item.get("region", "*")
            existing = self.get(service, sku, region if region != "*" else "")
            unit = item.get("unit") or (existing.unit if existing else "unit")
            self._overrides.setdefault(service, {}).setdefault(region, {})[sku] = Price(
                float(item["unit_price_usd"]),
                unit,
                "user-override",
                str(item.get("price_date", "config")),
                sku,
            )
        self.discount_pct.update({k: float(v) for k, v in discounts.items()})

    def add_live(self, offers: list[LiveOffer], source: str) -> None:
        """Prices read from a cloud's price list at scan time: they beat the bundled ones."""
        with self._live_lock:
            for o in offers:
                self._live.setdefault(o.service, {}).setdefault(o.region, {})[o.sku] = Price(
                    o.usd, o.unit, source, o.published, o.sku
                )
            if not offers:
                return
            newest = max(o.published for o in offers)
            entry = next((c for c in self.catalogs if c["catalog"] == source), None)
            if entry is None:  # the report lists the live price list beside the bundled catalogs
                self.catalogs.append(
                    {
                        "catalog": source,
                        "price_date": newest,
                        "source": LIVE_DESCRIPTIONS.get(source, source),
                        "file": "live",
                    }
                )
            elif newest > entry["price_date"]:
                entry["price_date"] = newest

    def get(self, service: str, sku: str, region: str = "") -> Price | None:
        """A user's override beats the live price list, which beats the bundled catalog; a
        region's own price beats a `*` one."""
        for table, keys in (
            (self._overrides, (region, "*")),
            (self._live, (region,)),
            (self._prices, (region, "*")),
        ):
            by_region = table.get(service, {})
            for key in keys:
                price = by_region.get(key, {}).get(sku)
                if price is not None:
                    return price
        return None

    def includes_accelerators(self, service: str, sku: str) -> bool:
        """True when `sku`'s row under `service` already prices the GPUs its machine type comes
        with (a Vertex g2-standard-8 node with its L4): adding them again would count them twice."""
        return sku.startswith(self.accelerators_included.get(service, ())) if sku else False

    def discount_for(self, service: str) -> float:
        """The most specific discount: `aws.ebs.iops`, then `aws.ebs`, then `aws`, then `*`."""
        parts = service.split(".")
        for key in [".".join(parts[:n]) for n in range(len(parts), 0, -1)] + ["*"]:
            if key in self.discount_pct:
                return self.discount_pct[key]
        return 0.0

    def line(self, service: str, sku: str, region: str, quantity: float, description: str) -> CostLine | None:
        """Price `quantity` units of `sku`; None when the catalog does not know it."""
        price = self.get(service, sku, region)
        if price is None:
            return None
        return CostLine(
            description=description,
            unit_price_usd=price.unit_price_usd,
            unit=price.unit,
            quantity=quantity,
            source=price.source,
            price_date=price.price_date,
            sku=f"{service}:{sku}:{region or '*'}",
            discount_pct=self.discount_for(service),
        )


def _bundled_files() -> list[tuple[str, str]]:
    data = resources.files("aifinops_cli.pricing") / "data"
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in data.iterdir()
        if entry.name.endswith((".yaml", ".yml"))
    )


@functools.lru_cache(maxsize=1)
def _bundled() -> PriceCatalog:
    """The bundled catalogs, read once a process: YAML through libyaml when present (the
    generated catalogs hold thousands of rows, about 65 ms to parse). load_catalog hands each
    caller a copy of its tables, not of the parsed YAML (a deep copy of that cost ~45 ms a
    scan)."""
    catalog = PriceCatalog()
    for name, text in _bundled_files():
        # shipped, generated data (thousands of rows): libyaml, no line tracking
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        catalog.add_catalog(doc, f"bundled:{name}")
    return catalog


def load_catalog(
    extra_files: list[Path] | None = None,
    overrides: list[dict[str, Any]] | None = None,
    discounts: dict[str, float] | None = None,
) -> PriceCatalog:
    """Bundled catalogs, then the user's (`pricing.catalogs`), then overrides and discounts.

    A user's catalog that cannot be read or is not a catalog is a SourceError (exit 2)."""
    catalog = _bundled().copy()
    for path in extra_files or []:
        doc = read_catalog(path)
        catalog.add_catalog(doc.data, str(path))
    catalog.apply_overrides(overrides or [], discounts or {})
    return catalog


def check_catalog(doc: Located) -> None:
    """A catalog document against CATALOG_SCHEMA (pricing/schema.py): SourceError at file:line."""
    if not isinstance(doc.data, dict):
        raise doc.error(
            (),
            "not a price catalog: expected a mapping with catalog, price_date "
            "and services (see the bundled pricing/data/*.yaml)",
        )
    doc.data = dates_as_text(doc.data)
    check_schema(doc, CATALOG_VALIDATOR)
    for path in non_finite(doc.data):
        raise doc.error(path, "a price must be a finite number of USD")


def read_catalog(path: Path) -> Located:
    """A user's catalog file, read and checked (exit 2 with file:line for anything wrong)."""
    doc = load_one(read_text(path, "price catalog"), str(path))
    check_catalog(doc)
    return doc


def check_pricing_section(config: Config) -> dict[str, Any]:
    """The config's `pricing:` section against PRICING_SECTION_SCHEMA, at its file:line."""
    section = dates_as_text(config.pricing)
    doc = Located({"pricing": section}, config.source, config.lines)
    check_schema(doc, PRICING_VALIDATOR, ("pricing",), section)
    for path in non_finite(section):
        raise doc.error(("pricing", *path), "expected a finite number")
    return section


def catalog_from_config(config: Config, extra: list[Path] | None = None) -> PriceCatalog:
    """The price catalog a scan uses: bundled catalogs, then `extra` (providers' own catalogs),
    then the config's `pricing:` catalogs, overrides and discounts, all checked first."""
    pricing = check_pricing_section(config)
    discount = pricing.get("discount_pct", {})
    if isinstance(discount, int | float):
        discount = {"*": float(discount)}
    return load_catalog(
        [*(extra or []), *(Path(p) for p in pricing.get("catalogs", []))],
        list(pricing.get("overrides", [])),
        dict(discount),
    )
