"""What a Kubernetes GPU node costs per hour, and per GPU-hour.

In order: the node's own `aifinops.io/gpu-hourly-usd` label (an on-prem chargeback rate set by
the cluster's admins), a per-label rate from the config (for on-prem pools or negotiated prices), the cloud
catalog for the node's instance type (`node.kubernetes.io/instance-type`; AWS when the
providerID says `aws://`, Google Cloud for `gce://`, else whichever catalog knows the type), then
the configured on-prem rate per GPU-hour. Per-GPU rates are per *physical* GPU: a node that
advertises MIG devices or time-slicing replicas as `nvidia.com/gpu` is counted by its physical
GPUs (`gpu_shape`, from the labels of NVIDIA's gpu-feature-discovery), so 56 MIG devices on an
8-GPU node bill 8 GPU-hours an hour, not 56. Config (section `kubernetes`):

    kubernetes:
      onprem_gpu_hourly_usd: 1.80          # any GPU node no catalog prices
      onprem_price_date: "2026-10-01"      # optional, shown with the price
      gpu_hourly_usd_by_label:             # first match wins, before the catalogs
        - {label: nvidia.com/gpu.product, value: NVIDIA-A100-SXM4-80GB, gpu_hourly_usd: 2.10}
        - {label: pool, value: lab, gpu_hourly_usd: 0.90}

Pure functions of the node JSON, the catalog and the config section.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.pricing.gpu_fit import mig_slices
from aifinops_cli.scanners.gcp.common import is_accelerator_optimised

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
GKE_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
RATE_LABEL = "aifinops.io/gpu-hourly-usd"
# gpu-feature-discovery (NVIDIA k8s-device-plugin docs, "Generated Labels")
GPU_COUNT_LABEL = "nvidia.com/gpu.count"  # physical GPUs; MIG devices under mig.strategy=single
REPLICAS_LABEL = "nvidia.com/gpu.replicas"  # time-slicing / MPS replicas per GPU
MIG_STRATEGY_LABEL = "nvidia.com/mig.strategy"  # none | single | mixed
MIG_GI_SLICES_LABEL = "nvidia.com/gpu.slices.gi"  # GPU-instance slices per MIG device (single)
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
# GKE sets its own labels for GPU sharing (no gpu-feature-discovery there)
GKE_PARTITION_LABEL = "cloud.google.com/gke-gpu-partition-size"  # e.g. "1g.5gb"
GKE_SHARED_CLIENTS_LABEL = "cloud.google.com/gke-max-shared-clients-per-gpu"
GPU_RESOURCE_NOTE = "nvidia.com/gpu"


@dataclass(frozen=True)
class GpuShape:
    """What a node advertises (`devices`: GPUs, MIG devices or shared replicas) against the
    physical GPUs they are cut from, which is what a per-GPU rate is paid for."""

    devices: int
    physical: int
    sharing: str = ""  # "", "mig-single", "time-slicing"
    basis: str = ""  # how `physical` was found, for the evidence

    @property
    def devices_per_gpu(self) -> float:
        return self.devices / self.physical if self.physical else 1.0


def _whole(labels: dict[str, str], key: str, problems: list[str]) -> int | None:
    raw = labels.get(key)
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not text.isdigit() or int(text) <= 0:
        problems.append(f'label {key}="{raw}" is not a positive whole number')
        return None
    return int(text)


def gpu_shape(labels: dict[str, str], devices: int) -> tuple[GpuShape, list[str]]:
    """Physical GPUs behind `devices` advertised devices, and any label that could not be read.

    - time-slicing / MPS: `nvidia.com/gpu.count` physical GPUs, each advertised `gpu.replicas`
      times (allocatable = count x replicas);
    - MIG `single`: GFD overrides `gpu.count` with the number of MIG devices; each GPU holds
      floor(7 / gpu.slices.gi) of them (4 slices on an A30). A `gpu.count` below the device
      count is taken as the physical count as it stands;
    - otherwise one device is one GPU.
    """
    problems: list[str] = []
    if devices <= 0:
        return GpuShape(0, 0), problems
    count = _whole(labels, GPU_COUNT_LABEL, problems)
    replicas = (
        _whole(labels, REPLICAS_LABEL, problems) or _whole(labels, GKE_SHARED_CLIENTS_LABEL, problems) or 1
    )
    strategy = str(labels.get(MIG_STRATEGY_LABEL, "none")).strip().lower()
    partition = str(labels.get(GKE_PARTITION_LABEL, ""))
    if partition[:1].isdigit() and "g." in partition and MIG_STRATEGY_LABEL not in labels:
        strategy = "single"  # GKE MIG: every GPU of the pool cut into `partition` devices
        labels = {**labels, MIG_GI_SLICES_LABEL: partition.split("g.")[0]}
    shared = -(-devices // replicas)  # devices once replicas are folded back
    if strategy == "single":
        if count is not None and count < shared:
            return GpuShape(
                devices, count, "mig-single", f"{GPU_COUNT_LABEL}={count} GPUs for {devices} MIG devices"
            ), problems
        slices = _whole(labels, MIG_GI_SLICES_LABEL, problems)
        if slices is None:
            problems.append(f"MIG single without {MIG_GI_SLICES_LABEL}: priced per MIG device")
            return GpuShape(devices, devices, "mig-single", "one MIG device counted as one GPU"), problems
        product = str(labels.get(GPU_PRODUCT_LABEL, ""))
        total = mig_slices(product)  # 7 on A100/H100/H200, 4 on A30 (pricing/data/gpu_models.yaml)
        per_gpu = max(total // slices, 1)
        mig = count if count is not None else shared
        physical = -(-mig // per_gpu)
        return GpuShape(
            devices, physical, "mig-single", f"{mig} MIG devices of {slices} slice(s), {per_gpu} per GPU"
        ), problems
    if count is not None:
        # more GPUs than advertised (MIG `mixed` keeps its MIG GPUs off nvidia.com/gpu, or a GPU
        # is unhealthy): price what is advertised, never more than one device per GPU-hour
        physical = min(count, shared)
        sharing = "time-slicing" if replicas > 1 else ""
        basis = f"{GPU_COUNT_LABEL}={count}" + (f", {REPLICAS_LABEL}={replicas}" if replicas > 1 else "")
        if physical < count:
            basis += f" ({physical} advertised as {GPU_RESOURCE_NOTE})"
        return GpuShape(devices, physical, sharing, basis), problems
    if replicas > 1:
        return GpuShape(
            devices, shared, "time-slicing", f"{devices} devices / {REPLICAS_LABEL}={replicas}"
        ), problems
    return GpuShape(devices, devices), problems


@dataclass(frozen=True)
class NodeRate:
    """A node's hourly price and how it was found. `node_hourly_usd` covers the whole node (for
    per-GPU rates: all its physical GPUs); `per_gpu_hourly_usd` is that divided by its physical
    GPUs; `devices_per_gpu` converts advertised devices (MIG, replicas) back to GPUs."""

    node_hourly_usd: float
    per_gpu_hourly_usd: float
    basis: str  # e.g. "aws.ec2:g5.12xlarge:us-east-1", "config:onprem_gpu_hourly_usd"
    source: str
    price_date: str
    discount_pct: float = 0.0
    devices_per_gpu: float = 1.0

    def node_line(self, gpus: int, description: str) -> CostLine:
        return CostLine(
            description=description,
            unit_price_usd=self.node_hourly_usd,
            unit="hour",
            quantity=HOURS_PER_MONTH,
            source=self.source,
            price_date=self.price_date,
            sku=self.basis,
            discount_pct=self.discount_pct,
        )

    def gpu_line(self, devices: float, description: str) -> CostLine:
        """`devices` advertised devices held for a month, as physical GPU-hours."""
        return CostLine(
            description=description,
            unit_price_usd=round(self.per_gpu_hourly_usd, 6),
            unit="GPU-hour",
            quantity=devices / self.devices_per_gpu * HOURS_PER_MONTH,
            source=self.source,
            price_date=self.price_date,
            sku=self.basis,
            discount_pct=self.discount_pct,
        )


def _label(labels: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((labels[k] for k in keys if labels.get(k)), "")


def cloud_of(provider_id: str) -> str:
    """aws, gcp, azure, or "" (on-prem, kind, bare metal: anything without a known cloud)."""
    for prefix, cloud in (("aws://", "aws"), ("gce://", "gcp"), ("azure://", "azure")):
        if provider_id.startswith(prefix):
            return cloud
    return ""


def _aws(prices: PriceCatalog, itype: str, region: str, gpus: int) -> NodeRate | None:
    price = prices.get("aws.ec2", itype, region)
    if price is None:
        return None
    return NodeRate(
        price.unit_price_usd,
        price.unit_price_usd / gpus,
        f"aws.ec2:{itype}:{region or '*'}",
        price.source,
        price.price_date,
        prices.discount_for("aws.ec2"),
    )


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
    return NodeRate(
        hourly, hourly / gpus, basis, price.source, price.price_date, prices.discount_for("gcp.compute")
    )


def node_rate(
    prices: PriceCatalog,
    settings: dict[str, Any],
    labels: dict[str, str],
    provider_id: str,
    shape: GpuShape | int,
) -> NodeRate | None:
    """The price of a GPU node (`shape`: its GPUs, or a plain count of whole GPUs), or None
    when neither catalog nor config knows it."""
    if isinstance(shape, int):
        shape = GpuShape(shape, shape)
    if shape.physical <= 0:
        return None
    rate = _node_rate(prices, settings, labels, provider_id, shape.physical)
    return replace(rate, devices_per_gpu=shape.devices_per_gpu) if rate is not None else None


def _node_rate(
    prices: PriceCatalog, settings: dict[str, Any], labels: dict[str, str], provider_id: str, gpus: int
) -> NodeRate | None:
    if labels.get(RATE_LABEL):
        try:
            rate = float(labels[RATE_LABEL])
        except ValueError:
            rate = -1.0
        if rate >= 0:
            return NodeRate(
                rate * gpus,
                rate,
                f"node-label:{RATE_LABEL}",
                "node-label",
                str(settings.get("onprem_price_date", "node label")),
            )
    for rule in settings.get("gpu_hourly_usd_by_label") or []:
        key, want = str(rule.get("label", "")), rule.get("value")
        if key in labels and (want is None or labels[key] == str(want)):
            rate = float(rule["gpu_hourly_usd"])
            value = f"={want}" if want is not None else ""
            return NodeRate(
                rate * gpus,
                rate,
                f"config:gpu_hourly_usd_by_label[{key}{value}]",
                "config:kubernetes",
                str(settings.get("onprem_price_date", "config")),
            )
    itype = _label(labels, INSTANCE_TYPE_LABELS)
    region = _label(labels, REGION_LABELS)
    cloud = cloud_of(provider_id)
    if itype:
        accel = labels.get(GKE_ACCELERATOR_LABEL, "")
        tries = {"aws": [_aws], "gcp": [_gcp], "azure": []}.get(cloud, [_aws, _gcp])
        for attempt in tries:
            rate = (
                attempt(prices, itype, region, gpus)
                if attempt is _aws
                else _gcp(prices, itype, region, gpus, accel)
            )
            if rate is not None:
                return rate
    if not cloud and settings.get("onprem_gpu_hourly_usd") is not None:
        rate = float(settings["onprem_gpu_hourly_usd"])
        return NodeRate(
            rate * gpus,
            rate,
            "config:onprem_gpu_hourly_usd",
            "config:kubernetes",
            str(settings.get("onprem_price_date", "config")),
        )
    return None


def unpriced_sku(labels: dict[str, str], provider_id: str) -> str:
    itype = _label(labels, INSTANCE_TYPE_LABELS)
    region = _label(labels, REGION_LABELS)
    cloud = cloud_of(provider_id)
    if itype:
        return f"{cloud or 'cloud'}:{itype}:{region or '*'}"
    return "kubernetes:onprem_gpu_hourly_usd (set it in the config's kubernetes section)"
