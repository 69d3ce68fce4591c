"""Prices read at scan time from the clouds' own price lists, and their on-disk cache.

The AWS Price List API (`aws_live.py`) and the Cloud Billing Catalog API (`gcp_live.py`) are
asked only for the SKUs and regions a scan saw. What they answer is cached on disk with the
price list's own publication / effective date, so the next run within `CACHE_TTL` makes no
call at all; a SKU the price list does not know is cached too (as `null`), so it is not asked
again. Prices found are added to the scan's `PriceCatalog` as its live layer, which beats the
bundled catalog (a user's override still beats both). A cost line priced live says
`source: <LIVE_AWS|LIVE_GCP>` and the price list's date; one priced from the bundled catalog
keeps the catalog's id and date.

Whether to read live prices: config `pricing.live` (true/false) or `$AIFINOPS_LIVE_PRICES`
(1/0); by default yes against the real clouds, and no when the cloud's endpoints are pointed
elsewhere (the demo and the tests' fakes) unless the price API's own endpoint is given.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIVE_AWS = "live:aws-price-list"
LIVE_GCP = "live:gcp-billing-catalog"
CACHE_TTL_S = 7 * 24 * 3600  # list prices change at most monthly; a week keeps them fresh
_CACHE_VERSION = 1


@dataclass(frozen=True)
class LiveOffer:
    """One price read from a price list: `usd` per `unit` of `sku` in `region`."""

    service: str  # our catalog service, e.g. "aws.ec2"
    region: str
    sku: str
    usd: float
    unit: str
    published: str  # the price list's own publication / effective date (ISO)


@dataclass
class LookupStats:
    """How a scan's price lookups went: for the report's notes and the bench."""

    api_calls: int = 0
    cache_hits: int = 0
    fetched: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, calls: int = 0, hits: int = 0, fetched: int = 0) -> None:
        with self._lock:
            self.api_calls += calls
            self.cache_hits += hits
            self.fetched += fetched


def setting(config_pricing: dict[str, Any]) -> bool | None:
    """Explicit on/off from config or environment; None means decide from the endpoints."""
    env = os.environ.get("AIFINOPS_LIVE_PRICES", "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env in ("1", "true", "yes", "on"):
        return True
    value = config_pricing.get("live")
    return None if value is None else bool(value)


def cache_dir(config_pricing: dict[str, Any] | None = None) -> Path:
    explicit = (config_pricing or {}).get("cache_dir") or os.environ.get("AIFINOPS_PRICE_CACHE")
    if explicit:
        return Path(str(explicit)).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aifinops" / "prices"


class PriceCache:
    """A JSON file per (price list, region, service): sku -> offer or null, with fetch times.

    Written atomically (temporary file, then rename); an unreadable or foreign file counts as
    empty, so a damaged cache costs one refetch, never a failed scan.
    """

    def __init__(self, directory: Path, ttl_s: float = CACHE_TTL_S, now: float | None = None) -> None:
        self.directory = directory
        self.ttl_s = ttl_s
        self._now = now
        self._lock = threading.Lock()

    def _path(self, source: str, service: str, region: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in f"{source}-{service}-{region}")
        return self.directory / f"{safe}.json"

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("version") != _CACHE_VERSION:
            return {}
        return doc.get("skus", {}) if isinstance(doc.get("skus"), dict) else {}

    def get(
        self, source: str, service: str, region: str, skus: list[str]
    ) -> tuple[dict[str, LiveOffer | None], list[str]]:
        """Fresh cached answers for `skus` (None: the list has no such SKU), and those to ask."""
        now = self._now if self._now is not None else time.time()
        entries = self._read(self._path(source, service, region))
        found: dict[str, LiveOffer | None] = {}
        todo: list[str] = []
        for sku in skus:
            entry = entries.get(sku)
            if not isinstance(entry, dict) or now - float(entry.get("fetched", 0)) > self.ttl_s:
                todo.append(sku)
                continue
            offer = entry.get("offer")
            found[sku] = None if offer is None else LiveOffer(**offer)
        return found, todo

    def put(self, source: str, service: str, region: str, answers: dict[str, LiveOffer | None]) -> None:
        if not answers:
            return
        now = self._now if self._now is not None else time.time()
        path = self._path(source, service, region)
        with self._lock:
            entries = self._read(path)
            for sku, offer in answers.items():
                entries[sku] = {"fetched": now, "offer": None if offer is None else offer.__dict__.copy()}
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_text(
                    json.dumps({"version": _CACHE_VERSION, "skus": entries}, sort_keys=True), encoding="utf-8"
                )
                tmp.replace(path)
            except OSError:
                pass  # a read-only home: the scan still has the prices, only the reuse is lost
