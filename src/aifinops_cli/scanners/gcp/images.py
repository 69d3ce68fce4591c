"""Leftovers of finished GPU work: Compute Engine snapshots and custom images whose source disk
(and so the GPU VM that used it) no longer exists, still billing for their storage every month.

Per project: one paginated `snapshots.list` and one `images.list` (both global), against the
project's disk and instance inventory (the aggregatedLists `gcp.compute` reads, once per scan).
A snapshot or image is tied to GPU work by what it carries, since the VM is gone: the name,
family, labels, licences and source disk name are searched for GPU words (`gpu`, `cuda`/`cu121`,
`nvidia`, `a100`, `h100`, `l4`, `t4`, `v100`, ...); where the source disk still exists and serves
a GPU VM, that VM is named instead. Priced by stored size (a snapshot's `storageBytes`, an image's
`archiveSizeBytes`, else its disk size as an upper bound) x the catalog's GB-month rate for its
storage location (`gcp.snapshot` standard/archive, `gcp.image`).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import CostLine, Observation, ScanResult
from aifinops_cli.core.plugin import ScanContext, Scanner
from aifinops_cli.core.timeutil import age_days, parse_time
from aifinops_cli.scanners.gcp import common

GIB = 2**30
# words that tie a snapshot or image to GPU work (whole tokens of names, families and labels)
GPU_WORDS = frozenset(
    {
        "gpu",
        "gpus",
        "cuda",
        "nvidia",
        "a100",
        "h100",
        "h200",
        "b200",
        "l4",
        "t4",
        "v100",
        "p100",
        "p4",
        "highgpu",
        "megagpu",
        "ultragpu",
    }
)
_CUDA_TAG = re.compile(r"^cu\d{2,3}$")  # cu118, cu121 (Deep Learning VM image families)
_TOKEN = re.compile(r"[^a-z0-9]+")


def gpu_words(*texts: str) -> list[str]:
    """The GPU words found in `texts`, in order, once each."""
    found: dict[str, None] = {}
    for text in texts:
        for token in _TOKEN.split(text.lower()):
            if token in GPU_WORDS or _CUDA_TAG.match(token):
                found[token] = None
    return list(found)


def disk_key(url: str) -> str:
    """A disk URL (zonal or regional) -> `LOCATION/NAME`, as `GceDisk.location/name`."""
    parts = url.rstrip("/").split("/")
    for scope in ("zones", "regions"):
        if scope in parts:
            return f"{parts[parts.index(scope) + 1]}/{parts[-1]}"
    return f"/{parts[-1]}" if parts else ""


class GceImageSnapshotScanner(Scanner):
    name = "gcp.images"
    provider = "gcp"
    description = (
        "Compute Engine snapshots and custom images whose source disk is gone, with what ties "
        "them to GPU work, priced by stored size"
    )
    kinds = ("gcp.compute.snapshot", "gcp.compute.image")
    visibility = ("storage",)  # stored data, not compute (core/coverage_score.py)
    _fields = (
        "age_days",
        "auto_created",
        "disk_size_gb",
        "family",
        "gpu_origin",
        "size_estimated",
        "size_gb",
        "source_disk",
        "source_exists",
        "state",
        "storage_class",
        "storage_location",
    )
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "gcp.compute.snapshot": _fields,
        "gcp.compute.image": _fields,
    }

    def scan(self) -> ScanResult:
        ctx = self.context

        def work(project: str) -> ScopeItems:
            from google.cloud import compute_v1

            limits = common.call_limits(ctx)
            snaps = common.gapic_client(ctx, compute_v1.SnapshotsClient, "compute")
            images = common.gapic_client(ctx, compute_v1.ImagesClient, "compute")
            snapshot_list = list(
                snaps.list(
                    request=compute_v1.ListSnapshotsRequest(project=project, max_results=500), **limits
                )
            )
            image_list = list(
                images.list(request=compute_v1.ListImagesRequest(project=project, max_results=500), **limits)
            )
            inv = common.inventory(ctx, project)
            disks = {f"{d.location}/{d.name}": d for d in inv.disks}
            vms = {f"{i.zone}/{i.name}": i for i in inv.instances}
            unpriced: list[dict[str, str]] = []
            out = [
                self._item(ctx, project, "snapshot", s, disks, vms, unpriced)
                for s in snapshot_list
                if s.status in ("READY", "UPLOADING", "")
            ]
            out.extend(
                self._item(ctx, project, "image", i, disks, vms, unpriced)
                for i in image_list
                if i.status in ("READY", "")
            )
            gone = sum(1 for o in out if not o.attributes["source_exists"])
            note = (
                f"{len(snapshot_list)} snapshots, {len(image_list)} images; "
                f"{gone} whose source disk no longer exists"
            )
            if inv.warnings:  # a zone not listed: its disks may exist though unseen
                note = f"{note}; " + "; ".join(inv.warnings)
            return ScopeItems(out, note, partial=bool(inv.warnings), unpriced=unpriced)

        done = common.for_each_project(ctx, self.name, work)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    def _item(
        self,
        ctx: ScanContext,
        project: str,
        what: str,
        item: Any,
        disks: dict[str, common.GceDisk],
        vms: dict[str, common.GceInstance],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        source = str(item.source_disk or "")
        disk = disks.get(disk_key(source)) if source else None
        users = [vms[common.user_key(u)] for u in (disk.users if disk else ()) if common.user_key(u) in vms]
        gpu_vm = next((v for v in users if v.has_gpu), None)
        labels = dict(item.labels)
        family = str(getattr(item, "family", "") or "")
        words = gpu_words(
            item.name,
            family,
            common.last_segment(source),
            *labels.keys(),
            *labels.values(),
            *(common.last_segment(x) for x in item.licenses),
        )
        if gpu_vm is not None:
            origin = f"source disk serves GPU VM {gpu_vm.zone}/{gpu_vm.name}"
        elif words:
            origin = "GPU words: " + ", ".join(words)
        else:
            origin = ""
        if what == "snapshot":
            stored, service = int(item.storage_bytes or 0), "gcp.snapshot"
            storage_class = (str(item.snapshot_type) or "STANDARD").lower()
        else:
            stored, service, storage_class = int(item.archive_size_bytes or 0), "gcp.image", "custom"
        estimated = stored <= 0
        size_gb = float(item.disk_size_gb) if estimated else stored / GIB
        location = item.storage_locations[0] if item.storage_locations else ""
        note = " (disk size: stored size not reported, an upper bound)" if estimated else ""
        line: CostLine | None = ctx.prices.line(
            service,
            storage_class,
            location,
            round(size_gb, 3),
            f"{what} {item.name}: {size_gb:.1f} GB {storage_class} in {location or '?'}{note}",
        )
        missing = [] if line is not None else [f"{service}:{storage_class}:{location or '*'}"]
        unpriced.extend({"scanner": self.name, "resource_id": item.name, "sku": s} for s in missing)
        evidence = []
        if source:
            evidence.append(
                f"source disk {disk_key(source)} "
                + ("still exists" if disk else "no longer exists (nor does the VM that used it)")
            )
        if origin:
            evidence.append(f"tied to GPU work by: {origin}")
        return Observation(
            provider="gcp",
            kind=f"gcp.compute.{what}",
            id=str(item.id),
            account=project,
            region=location,
            name=item.name,
            tags=labels,
            owner=ctx.config.owner_from_tags(labels),
            metrics={
                "size_gb": round(size_gb, 3),
                "disk_size_gb": float(item.disk_size_gb),
                "age_days": age_days(parse_time(item.creation_timestamp), ctx.now),
            },
            attributes={
                "state": str(item.status).lower(),
                "source_disk": disk_key(source) if source else "",
                "source_exists": disk is not None if source else False,
                "gpu_origin": origin,
                "family": family,
                "storage_class": storage_class,
                "storage_location": location,
                "size_estimated": estimated,
                "auto_created": bool(getattr(item, "auto_created", False)),
            },
            cost_lines=(line,) if line is not None else (),
            evidence=tuple(evidence),
            unpriced=tuple(missing),
        )
