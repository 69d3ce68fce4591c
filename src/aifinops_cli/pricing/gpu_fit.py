"""Which smaller GPU instance would hold what a GPU instance or node actually used.

The facts (GPU memory and compute class per model, GPUs per instance type, MIG slices, the
families a right-size may move to) are in `pricing/data/gpu_models.yaml`; prices come from the
dated catalogs. `pick_rightsize` is a pure function of both.

The fit rule (one place: HEADROOM):
- memory: each candidate GPU holds the busiest GPU's peak memory, and all its GPUs together hold
  the sum of every GPU's peak, each times (1 + HEADROOM);
- compute: the candidate's compute class (dense FP16/BF16 Tensor TFLOPS x GPUs) covers the
  current card's times the peak activity over the window, times (1 + HEADROOM). Peak activity
  is DCGM_FI_PROF_GR_ENGINE_ACTIVE where published, else a utilisation metric (which overstates
  activity, so the fit errs towards keeping the bigger instance);
- the cheapest fitting candidate priced in the same region wins; it must cost less per hour.
Monthly saving = (current hourly - candidate hourly) x HOURS_PER_MONTH, both list prices.

MIG: a MIG device of profile `<n>g.<m>gb` is n compute slices of the card's `mig_slices`
(7 on A100/H100/H200, 4 on A30), and is priced as that share of the card: a 1g.10gb slice of an
A100-80GB is 1/7 of the card's price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from aifinops_cli.core.models import HOURS_PER_MONTH
from aifinops_cli.pricing.catalog import PriceCatalog

HEADROOM = 0.20  # 20% above the observed peaks, for memory and for compute
SERVICES = {"aws": "aws.ec2", "gcp": "gcp.compute"}
# the fields `rightsize_metrics` adds to an observation (scanners declare them; rules name them)
RIGHTSIZE_FIELDS = (
    "gpu_activity_max_pct",
    "gpu_activity_metric",
    "gpu_mem_peak_gb",
    "gpu_mem_peak_per_gpu_gb",
    "gpu_mem_total_gb",
    "rightsize_basis",
    "rightsize_monthly_savings_usd",
    "rightsize_target",
    "rightsize_target_hourly_usd",
)
_MIG_PROFILE = re.compile(r"(\d+)g\.(\d+)gb", re.IGNORECASE)


@dataclass(frozen=True)
class GpuModel:
    name: str
    memory_gb: float
    tflops: float
    mig_slices: int = 0


@dataclass(frozen=True)
class InstanceGpus:
    """The GPUs of one instance type."""

    instance_type: str
    count: int
    model: GpuModel

    @property
    def memory_gb(self) -> float:
        return self.count * self.model.memory_gb

    @property
    def tflops(self) -> float:
        return self.count * self.model.tflops


@dataclass(frozen=True)
class GpuNeed:
    """What the workload used over the window: the busiest GPU's peak memory, the sum of all
    GPUs' peaks, and the highest activity (percent of the current GPUs' compute)."""

    peak_gb_per_gpu: float
    peak_gb_total: float
    peak_activity_pct: float
    activity_metric: str = ""


@dataclass(frozen=True)
class Candidate:
    gpus: InstanceGpus
    hourly_usd: float
    source: str = ""
    price_date: str = ""


@dataclass(frozen=True)
class Rightsize:
    current: InstanceGpus
    current_hourly_usd: float
    target: Candidate
    discount_pct: float = 0.0  # the catalog discount both prices are billed at

    @property
    def monthly_savings_usd(self) -> float:
        gross = (self.current_hourly_usd - self.target.hourly_usd) * HOURS_PER_MONTH
        return round(gross * (1.0 - self.discount_pct / 100.0), 6)

    def basis(self) -> str:
        t = self.target
        return (
            f"{self.current.instance_type} ({self.current.count} x {self.current.model.name}) at "
            f"{self.current_hourly_usd:g} $/h -> {t.gpus.instance_type} ({t.gpus.count} x "
            f"{t.gpus.model.name}, {t.gpus.memory_gb:g} GB) at {t.hourly_usd:g} $/h ({t.source}, "
            f"{t.price_date}): ({self.current_hourly_usd:g} - {t.hourly_usd:g}) x "
            f"{HOURS_PER_MONTH:g} h"
            + (f" x (1 - {self.discount_pct:g}%)" if self.discount_pct else "")
            + f" = {self.monthly_savings_usd:,.2f} $/month"
        )


@cache
def _data() -> dict[str, Any]:
    text = (resources.files("aifinops_cli.pricing") / "data" / "gpu_models.yaml").read_text("utf-8")
    return dict(yaml.safe_load(text))


@cache
def models() -> dict[str, GpuModel]:
    return {
        name: GpuModel(name, float(m["memory_gb"]), float(m["tflops"]), int(m.get("mig_slices", 0)))
        for name, m in _data()["gpu_models"].items()
    }


def model_for(product: str) -> GpuModel | None:
    """The model a product/accelerator name names (first `match` substring in file order)."""
    text = product.lower()
    for name, spec in _data()["gpu_models"].items():
        if any(str(m).lower() in text for m in spec.get("match", [])):
            return models()[name]
    return None


def instance_gpus(cloud: str, instance_type: str) -> InstanceGpus | None:
    row = (_data()["instances"].get(cloud) or {}).get(instance_type)
    if not row:
        return None
    return InstanceGpus(instance_type, int(row[0]), models()[row[1]])


def mig_slices(product: str) -> int:
    """Compute slices a MIG-capable card is cut into (gpu_models.yaml `mig_slices`); 7, the
    A100/H100/H200 figure, when the product is not named or not known."""
    model = model_for(product) if product else None
    return model.mig_slices if model and model.mig_slices else models()["A100-80GB"].mig_slices


def mig_share(profile: str, product: str) -> float | None:
    """The share of the card a MIG device of `profile` (e.g. "1g.10gb", "mig-3g.40gb") is:
    its compute slices over the card's (7 on A100/H100, 4 on A30). None if not a MIG profile."""
    m = _MIG_PROFILE.search(profile)
    if not m:
        return None
    return min(int(m.group(1)) / mig_slices(product), 1.0)


def candidates(prices: PriceCatalog, cloud: str, region: str) -> list[Candidate]:
    """The right-size targets of `cloud` the catalog prices in `region`."""
    service = SERVICES.get(cloud)
    if service is None:
        return []
    prefixes = tuple(_data()["rightsize_targets"].get(cloud) or ())
    out = []
    for itype in _data()["instances"].get(cloud) or {}:
        if not itype.startswith(prefixes):
            continue
        price = prices.get(service, itype, region)
        gpus = instance_gpus(cloud, itype)
        if price is not None and gpus is not None:
            out.append(Candidate(gpus, price.unit_price_usd, price.source, price.price_date))
    return out


def fits(need: GpuNeed, current: InstanceGpus, cand: InstanceGpus, headroom: float = HEADROOM) -> bool:
    grow = 1.0 + headroom
    return (
        cand.model.memory_gb >= need.peak_gb_per_gpu * grow
        and cand.memory_gb >= need.peak_gb_total * grow
        and cand.tflops >= current.tflops * need.peak_activity_pct / 100.0 * grow
    )


def pick_rightsize(
    need: GpuNeed,
    current: InstanceGpus,
    current_hourly_usd: float,
    options: list[Candidate],
    headroom: float = HEADROOM,
    discount_pct: float = 0.0,
) -> Rightsize | None:
    """The cheapest candidate that fits `need` and costs less than the current instance."""
    fitting = [
        c
        for c in options
        if c.gpus.instance_type != current.instance_type
        and c.hourly_usd < current_hourly_usd
        and fits(need, current, c.gpus, headroom)
    ]
    if not fitting:
        return None
    best = min(fitting, key=lambda c: (c.hourly_usd, c.gpus.instance_type))
    return Rightsize(current, current_hourly_usd, best, discount_pct)


def rightsize_metrics(
    prices: PriceCatalog,
    cloud: str,
    region: str,
    instance_type: str,
    current_hourly_usd: float | None,
    need: GpuNeed | None,
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """The metrics and attributes the scanners add for `gpu-rightsize`: every RIGHTSIZE_FIELDS
    key, None (or "") where the instance type, its price or the telemetry is unknown."""
    current = instance_gpus(cloud, instance_type)
    metrics: dict[str, float | None] = {
        "gpu_mem_total_gb": None,
        "gpu_mem_peak_gb": None,
        "gpu_mem_peak_per_gpu_gb": None,
        "gpu_activity_max_pct": None,
        "rightsize_target_hourly_usd": None,
        "rightsize_monthly_savings_usd": None,
    }
    attrs: dict[str, Any] = {"gpu_activity_metric": "", "rightsize_target": "", "rightsize_basis": ""}
    if current is None:
        return metrics, attrs
    metrics["gpu_mem_total_gb"] = current.memory_gb
    if need is None:
        return metrics, attrs
    attrs["gpu_activity_metric"] = need.activity_metric
    metrics["gpu_mem_peak_gb"] = round(need.peak_gb_total, 3)
    metrics["gpu_mem_peak_per_gpu_gb"] = round(need.peak_gb_per_gpu, 3)
    metrics["gpu_activity_max_pct"] = round(need.peak_activity_pct, 2)
    if current_hourly_usd is None:
        return metrics, attrs
    discount = prices.discount_for(SERVICES[cloud])
    options = candidates(prices, cloud, region)
    pick = pick_rightsize(need, current, current_hourly_usd, options, discount_pct=discount)
    if pick is None:
        return metrics, attrs
    metrics["rightsize_target_hourly_usd"] = pick.target.hourly_usd
    metrics["rightsize_monthly_savings_usd"] = pick.monthly_savings_usd
    attrs["rightsize_target"] = pick.target.gpus.instance_type
    attrs["rightsize_basis"] = pick.basis()
    return metrics, attrs
