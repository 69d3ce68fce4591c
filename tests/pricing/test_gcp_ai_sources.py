"""Every rate in the hand-made gcp_ai.yaml is named by exactly one of its `sources` entries, so a
price added without saying where it came from (or that nobody checked it) fails here. Verified
and cross-checked entries list their rates one by one; only the `unverified` entry may use `*`,
and it takes only the rates no entry lists by name."""

from __future__ import annotations

from fnmatch import fnmatchcase
from importlib import resources

import pytest
import yaml

STATUSES = {"verified", "cross-checked", "unverified"}


def _catalog() -> dict:
    text = (resources.files("aifinops_cli.pricing") / "data" / "gcp_ai.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _rates(doc: dict) -> dict[str, float]:
    """`service:sku:region` -> price, the way cost lines name their sku."""
    return {
        f"{service}:{sku}:{region}": price
        for service, body in doc["services"].items()
        for region, skus in body["prices"].items()
        for sku, price in skus.items()
    }


def test_every_gcp_ai_rate_has_exactly_one_source() -> None:
    doc = _catalog()
    sources = doc["sources"]
    assert {s["status"] for s in sources} <= STATUSES
    for s in sources:
        if s["status"] != "unverified":
            # a checked rate names the copy it was read from, the commit and the day
            assert s["url"].startswith("https://") and len(s["commit"]) == 40 and s["read"], s["name"]
            assert not any("*" in r for r in s["rates"]), s["name"]
    named: dict[str, list[str]] = {}
    for key in _rates(doc):
        # a rate listed by name belongs to that entry; only the rest fall to the `*` patterns
        exact = [s["name"] for s in sources if key in s["rates"]]
        named[key] = exact or [
            s["name"] for s in sources if any("*" in r and fnmatchcase(key, r) for r in s["rates"])
        ]
    assert {k: v for k, v in named.items() if len(v) != 1} == {}
    assert named["gcp.vertex.predict:n1-standard-4:us-central1"] != ["unverified"]
    # and no checked entry names a rate the catalog does not have (a typo would hide a row)
    listed = {r for s in sources if s["status"] != "unverified" for r in s["rates"]}
    assert listed <= set(_rates(doc))


def test_checked_rates_are_the_ones_read() -> None:
    rates = _rates(_catalog())
    # skypilot-catalog v8 gcp/vms.csv: slice price / chips (v2, v3, v4, v5p names count 2 cores a chip)
    assert rates["gcp.tpu:v2:us-central1"] == pytest.approx(4.50 / 4)  # v2-8
    assert rates["gcp.tpu:v2:europe-west4"] == pytest.approx(4.95 / 4)  # v2-8: 1.2375 (was 1.24)
    assert rates["gcp.tpu:v3:europe-west4"] == pytest.approx(8.80 / 4)  # v3-8
    assert rates["gcp.tpu:v4:us-central2"] == pytest.approx(12.88 / 4)  # v4-8
    assert rates["gcp.tpu:v5litepod:europe-west4"] == pytest.approx(1.56)  # v5litepod-1 (was 1.32)
    assert rates["gcp.tpu:v5p:us-east5"] == pytest.approx(25267.20 / 6016)  # v5p-12032: 6,016 chips
    assert rates["gcp.tpu:v6e:us-east1"] == pytest.approx(2.70)  # v6e-1
    # Cyclenerd pricing.yml compute.storage.snapshot: us-central1 and the us multi-region
    assert rates["gcp.snapshot:standard:us-central1"] == pytest.approx(0.05)
    assert rates["gcp.snapshot:standard:us"] == pytest.approx(0.065)
