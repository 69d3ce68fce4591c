"""Unattached EBS volumes: storage that bills although nothing uses it."""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import Observation
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.pricing import read_list_prices, volume_lines_for


class UnattachedVolumeScanner(common.RegionalScanner):
    name = "aws.ebs"
    description = "EBS volumes in state `available` (attached to nothing), priced per GB, IOPS, throughput"
    kinds = ("aws.ebs.volume",)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "aws.ebs.volume": (
            "age_days",
            "availability_zone",
            "created_at",
            "encrypted",
            "iops",
            "priced",
            "size_gb",
            "snapshot_id",
            "state",
            "throughput_mibps",
            "volume_type",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        ctx, account = self.context, self.account
        unpriced: list[dict[str, str]] = []  # this region's SKUs without a price
        inv = common.inventory(ctx, session, region)
        price_note = read_list_prices(ctx, session, region, inv.instances, inv.volumes)
        out = []
        for vol in inv.volumes:
            if vol.get("State") != "available":
                continue
            lines, missing = volume_lines_for(ctx.prices, region, vol)
            unpriced.extend({"scanner": self.name, "resource_id": vol["VolumeId"], "sku": s} for s in missing)
            tags = common.tags_of(vol)
            out.append(
                Observation(
                    provider="aws",
                    kind="aws.ebs.volume",
                    id=vol["VolumeId"],
                    account=account,
                    region=region,
                    name=tags.get("Name", ""),
                    tags=tags,
                    owner=ctx.config.owner_from_tags(tags),
                    metrics={
                        "size_gb": float(vol.get("Size", 0)),
                        "iops": float(vol["Iops"]) if vol.get("Iops") else None,
                        "throughput_mibps": (float(vol["Throughput"]) if vol.get("Throughput") else None),
                        "age_days": age_days(vol.get("CreateTime"), ctx.now),
                    },
                    attributes={
                        "state": vol.get("State"),
                        "volume_type": vol.get("VolumeType"),
                        "availability_zone": vol.get("AvailabilityZone"),
                        "snapshot_id": vol.get("SnapshotId") or None,
                        "encrypted": bool(vol.get("Encrypted")),
                        "created_at": vol["CreateTime"].isoformat() if vol.get("CreateTime") else None,
                        "priced": not missing,
                    },
                    cost_lines=tuple(lines),
                )
            )
        note = f"{len(inv.volumes)} volumes listed" + (f"; {price_note}" if price_note else "")
        return ScopeItems(out, note, unpriced=unpriced)
