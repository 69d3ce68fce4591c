"""Leftovers of finished AI projects: EBS snapshots and AMIs of GPU instances that are gone.

Per region: one paginated DescribeSnapshots and one DescribeImages, both of this account only
(`OwnerIds=self`, `Owners=self`), plus the shared instance and volume inventory (common.inventory,
listed once per scan). No call per snapshot or image.

An instance that no longer exists cannot be described, so what it was is read from what it left:
- the source: an AMI's SourceInstanceId, else the "Created by CreateImage(i-...) for ami-..."
  description AWS writes on an AMI's snapshots; a snapshot's volume (gone, or attached to an
  instance that is gone);
- accelerated: the image's or snapshot's name, description or tag values name an accelerated
  instance type (p/g/trn/inf/dl families, `common.ACCELERATED_FAMILY`) or a GPU software stack
  (Deep Learning AMI, CUDA, NVIDIA, Neuron, GPU). `accelerated_hint` says which word matched.

Price: GB x the catalog's snapshot GB-month rate for its storage tier. The size is the snapshot's
FullSnapshotSizeInBytes where AWS reports it, else the size of the volume it was taken from (an
upper bound: the first snapshot of a volume bills its written blocks). An AMI is priced as the sum
of its snapshots, and those snapshots are not reported again on their own.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import CostLine, Observation
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.aws import common

SERVICE = "aws.ebs.snapshot"
GIB = 1024**3
_CREATED_BY = re.compile(r"Created by CreateImage\((i-[0-9a-f]+)\)")
_STACK = re.compile(r"deep ?learning|\bdlami\b|\bcuda\b|nvidia|\bneuron\b|\bgpus?\b", re.IGNORECASE)
_TYPE_TOKEN = re.compile(r"\b([a-z]+\d[a-z0-9-]*)\.(?:\d*xlarge|large|metal)\b", re.IGNORECASE)

SNAPSHOT_FIELDS = (
    "accelerated",
    "accelerated_hint",
    "age_days",
    "created_at",
    "description",
    "in_use",
    "size_gb",
    "size_is_full_snapshot",
    "snapshot_ids",
    "source_exists",
    "source_instance_id",
    "source_volume_id",
    "storage_tier",
)


def accelerated_hint(*texts: str) -> str | None:
    """The first accelerated instance type or GPU-stack word in the texts, or None."""
    for text in texts:
        for m in _TYPE_TOKEN.finditer(text or ""):
            if common.is_accelerated(m.group(1).lower()):
                return m.group(0)
        found = _STACK.search(text or "")
        if found:
            return found.group(0)
    return None


def snapshot_gb(snap: dict[str, Any]) -> tuple[float, bool]:
    """(GB billed, whether that is the snapshot's own size rather than its volume's)."""
    full = snap.get("FullSnapshotSizeInBytes")
    if full:
        return round(float(full) / GIB, 3), True
    return float(snap.get("VolumeSize") or 0), False


def snapshot_line(prices: PriceCatalog, region: str, snap: dict[str, Any]) -> CostLine | None:
    gb, _ = snapshot_gb(snap)
    tier = "archive" if snap.get("StorageTier") == "archive" else "standard"
    return prices.line(SERVICE, tier, region, gb, f"snapshot {snap['SnapshotId']}, {gb:g} GB {tier}")


def _created(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return None


class SnapshotLeftoverScanner(common.RegionalScanner):
    name = "aws.snapshots"
    description = "EBS snapshots and AMIs of GPU instances that no longer exist, priced per GB-month"
    kinds = ("aws.ec2.snapshot", "aws.ec2.image")
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "aws.ec2.snapshot": SNAPSHOT_FIELDS,
        "aws.ec2.image": (*SNAPSHOT_FIELDS, "image_name"),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        ctx = self.context
        ec2 = common.client(self.context, session, "ec2", region)
        inv = common.inventory(ctx, session, region)
        instances = {i["InstanceId"]: i for i in inv.instances}
        volumes = inv.volumes_by_id
        snapshots = [
            s
            for page in ec2.get_paginator("describe_snapshots").paginate(
                OwnerIds=["self"], PaginationConfig={"PageSize": 1000}
            )
            for s in page["Snapshots"]
        ]
        images = [
            i
            for page in ec2.get_paginator("describe_images").paginate(
                Owners=["self"], PaginationConfig={"PageSize": 1000}
            )
            for i in page["Images"]
        ]
        by_id = {s["SnapshotId"]: s for s in snapshots}
        launched_from = {i.get("ImageId") for i in inv.instances}
        unpriced: list[dict[str, str]] = []
        out: list[Observation] = []
        of_images: set[str] = set()
        for image in images:
            snap_ids = [
                m["Ebs"]["SnapshotId"]
                for m in image.get("BlockDeviceMappings", [])
                if m.get("Ebs", {}).get("SnapshotId")
            ]
            of_images.update(snap_ids)
            out.append(
                self._image(
                    region,
                    image,
                    [by_id[s] for s in snap_ids if s in by_id],
                    instances,
                    launched_from,
                    unpriced,
                )
            )
        for snap in snapshots:
            if snap["SnapshotId"] not in of_images:
                out.append(self._snapshot(region, snap, instances, volumes, unpriced))
        note = f"{len(snapshots)} snapshots, {len(images)} images of this account"
        return ScopeItems(out, note, unpriced=unpriced)

    def _lines(
        self, region: str, snaps: list[dict[str, Any]], owner: str, unpriced: list[dict[str, str]]
    ) -> list[CostLine]:
        lines = []
        for snap in snaps:
            line = snapshot_line(self.context.prices, region, snap)
            if line is None:
                tier = "archive" if snap.get("StorageTier") == "archive" else "standard"
                unpriced.append(
                    {"scanner": self.name, "resource_id": owner, "sku": f"{SERVICE}:{tier}:{region}"}
                )
            else:
                lines.append(line)
        return lines

    def _image(
        self,
        region: str,
        image: dict[str, Any],
        snaps: list[dict[str, Any]],
        instances: dict[str, Any],
        launched_from: set[Any],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        ctx = self.context
        tags = common.tags_of(image)
        source = image.get("SourceInstanceId") or next(
            (m.group(1) for s in snaps if (m := _CREATED_BY.search(s.get("Description") or ""))), None
        )
        hint = accelerated_hint(image.get("Name", ""), image.get("Description", ""), *tags.values())
        created = _created(image.get("CreationDate"))
        sizes = [snapshot_gb(s) for s in snaps]
        lines = self._lines(region, snaps, image["ImageId"], unpriced)
        return Observation(
            provider="aws",
            kind="aws.ec2.image",
            id=image["ImageId"],
            account=self.account,
            region=region,
            name=image.get("Name") or tags.get("Name", ""),
            tags=tags,
            owner=ctx.config.owner_from_tags(tags),
            metrics={"size_gb": round(sum(gb for gb, _ in sizes), 3), "age_days": age_days(created, ctx.now)},
            attributes={
                "image_name": image.get("Name"),
                "description": image.get("Description"),
                "source_instance_id": source,
                "source_volume_id": None,
                "source_exists": bool(source and source in instances) if source else None,
                "in_use": image["ImageId"] in launched_from,
                "accelerated": hint is not None,
                "accelerated_hint": hint,
                "size_is_full_snapshot": bool(sizes) and all(full for _, full in sizes),
                "storage_tier": sorted({s.get("StorageTier") or "standard" for s in snaps}),
                "snapshot_ids": [s["SnapshotId"] for s in snaps],
                "created_at": created.isoformat() if created else None,
            },
            cost_lines=tuple(lines),
            evidence=(
                "the instance it was made from is not among this region's instances (running or "
                "stopped); what it ran on is read from the image's name, description and tags",
            ),
        )

    def _snapshot(
        self,
        region: str,
        snap: dict[str, Any],
        instances: dict[str, Any],
        volumes: dict[str, Any],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        ctx = self.context
        tags = common.tags_of(snap)
        described = _CREATED_BY.search(snap.get("Description") or "")
        volume = volumes.get(snap.get("VolumeId") or "")
        attached = [a["InstanceId"] for a in (volume or {}).get("Attachments", []) if a.get("InstanceId")]
        source = described.group(1) if described else (attached[0] if attached else None)
        if source:
            exists: bool | None = source in instances
        else:  # no instance named: the source is the volume, gone or not
            exists = volume is not None
        hint = accelerated_hint(snap.get("Description", ""), *tags.values())
        gb, full = snapshot_gb(snap)
        created = _created(snap.get("StartTime"))
        return Observation(
            provider="aws",
            kind="aws.ec2.snapshot",
            id=snap["SnapshotId"],
            account=self.account,
            region=region,
            name=tags.get("Name", ""),
            tags=tags,
            owner=ctx.config.owner_from_tags(tags),
            metrics={"size_gb": gb, "age_days": age_days(created, ctx.now)},
            attributes={
                "description": snap.get("Description"),
                "source_instance_id": source,
                "source_volume_id": snap.get("VolumeId"),
                "source_exists": exists,
                "in_use": False,  # snapshots of registered AMIs are reported with their AMI
                "accelerated": hint is not None,
                "accelerated_hint": hint,
                "size_is_full_snapshot": full,
                "storage_tier": [snap.get("StorageTier") or "standard"],
                "snapshot_ids": [snap["SnapshotId"]],
                "created_at": created.isoformat() if created else None,
            },
            cost_lines=tuple(self._lines(region, [snap], snap["SnapshotId"], unpriced)),
            evidence=(
                "made from a volume or instance that no longer exists in this region; what it ran "
                "on is read from its description and tags",
            ),
        )
