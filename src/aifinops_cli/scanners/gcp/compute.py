"""Compute Engine: GPU instances and their utilisation, and persistent disks nobody uses.

Per project (projects run concurrently): one paginated `instances.aggregatedList` and one
`disks.aggregatedList` across all zones, then Cloud Monitoring for the running GPU instances
only: daily CPU utilisation (every VM) and the Ops Agent's GPU utilisation where installed,
selected by instance id in chunks of 100. GKE nodes are left to the `gcp.gke` scanner, which
judges them per node pool, and Workbench VMs (label `goog-caip-notebook`) to `gcp.workbench`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core import overlap
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import Observation, ScanResult
from aifinops_cli.core.plugin import ScanContext, Scanner
from aifinops_cli.core.timeutil import age_days
from aifinops_cli.pricing.gpu_fit import RIGHTSIZE_FIELDS, GpuNeed, rightsize_metrics
from aifinops_cli.scanners.gcp import common
from aifinops_cli.scanners.gcp.monitoring import GPU_METRIC, Monitoring, Window, instance_utilisation
from aifinops_cli.scanners.gcp.pricing import SPOT_MODELS, disk_line, instance_lines, read_list_prices

GKE_NODE_LABEL = "goog-gke-node"
# Vertex AI Workbench puts this label on the VMs it runs; gcp.workbench judges them
WORKBENCH_LABEL = "goog-caip-notebook"
# GKE node pools are still priced on demand (gcp.gke); Compute Engine VMs at their Spot SKUs
SPOT_PRICED_NOTE = (
    "Spot VM: priced at the Cloud Billing Catalog's Spot SKUs for its region; "
    "Spot prices change up to once a month"
)
PREEMPTIBLE_NOTE = (
    "legacy preemptible VM (scheduling.preemptible): billed at the Spot SKUs, "
    "stopped by Compute Engine after at most 24 h; consider Spot VMs"
)


class GcpComputeScanner(Scanner):
    name = "gcp.compute"
    provider = "gcp"
    description = (
        "Compute Engine GPU instances (attached GPUs or A2/A3/G2 machine types) and "
        "their CPU/GPU utilisation; persistent disks attached to nothing"
    )
    kinds = ("gcp.compute.instance", "gcp.compute.disk")
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "gcp.compute.instance": (
            "accelerator_type",
            "age_days",
            "attached_disk_gb",
            "attached_storage_monthly_usd",
            "compute_monthly_usd",
            "cpu_avg_pct",
            "cpu_max_pct",
            "family",
            "gpu_count",
            "gpu_metrics",
            "gpu_util_avg_pct",
            "gpu_util_max_pct",
            "launched_at",
            "lookback_days",
            "machine_type",
            "metric_days",
            "provisioning_model",
            "state",
            "stopped_days",
            "uptime_days",
            *RIGHTSIZE_FIELDS,
        ),
        "gcp.compute.disk": (
            "age_days",
            "created_at",
            "disk_type",
            "ever_attached",
            "last_detached_at",
            "regional",
            "size_gb",
            "state",
            "status",
            "unattached_days",
        ),
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        window = Window.ending(ctx.now, ctx.options.lookback_days)

        def work(project: str) -> ScopeItems:
            unpriced: list[dict[str, str]] = []  # this project's SKUs without a price
            inv = common.inventory(ctx, project)
            gpu = [
                i
                for i in inv.instances
                if i.has_gpu and GKE_NODE_LABEL not in i.labels and WORKBENCH_LABEL not in i.labels
            ]
            running = [i for i in gpu if i.status == "RUNNING"]
            utilisation: dict[str, dict[str, float | None]] = {}
            problems = list(inv.warnings)
            price_note = read_list_prices(ctx, running, inv.disks)
            if running:
                try:
                    utilisation = instance_utilisation(
                        Monitoring(common.access(ctx), ctx), project, [i.id for i in running], window
                    )
                except common.expected_errors() as exc:
                    # without metrics no instance can be judged idle; disks still can
                    problems.append(f"utilisation not read: {common.explain(exc, 'monitoring')}")
            disks_of: dict[str, list[common.GceDisk]] = {}
            for disk in inv.disks:
                for user in disk.users:
                    disks_of.setdefault(common.user_key(user), []).append(disk)
            out: list[Observation] = [
                self._instance(
                    ctx,
                    project,
                    inst,
                    utilisation.get(inst.id),
                    disks_of.get(f"{inst.zone}/{inst.name}", []),
                    unpriced,
                )
                for inst in gpu
            ]
            orphans = [d for d in inv.disks if not d.users]
            out.extend(self._disk(ctx, project, d, unpriced) for d in orphans)
            note = (
                f"{len(inv.instances)} instances, {len(gpu)} with GPUs ({len(running)} running); "
                f"{len(inv.disks)} disks, {len(orphans)} unattached"
            )
            if problems:
                note = f"{note}; " + "; ".join(problems)
            if price_note:
                note = f"{note}; {price_note}"
            return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

        done = common.for_each_project(ctx, self.name, work)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    def _instance(
        self,
        ctx: ScanContext,
        project: str,
        inst: common.GceInstance,
        utilisation: dict[str, float | None] | None,
        disks: list[common.GceDisk],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        """Running: machine, GPUs and disks bill; stopped (TERMINATED): only the disks do."""
        accel, count = inst.gpus
        lines: list[Any] = []
        missing: list[str] = []  # SKUs of this instance no catalog prices (Observation.unpriced)
        if inst.status == "RUNNING":
            lines, missing = instance_lines(
                ctx.prices,
                inst.region,
                inst.machine_type,
                inst.accelerators,
                spot=inst.provisioning_model in SPOT_MODELS,
            )
            unpriced.extend({"scanner": self.name, "resource_id": inst.name, "sku": s} for s in missing)
        compute_usd = sum(line.monthly_usd for line in lines)
        storage = []
        for disk in disks:
            line = disk_line(ctx.prices, disk.region, disk.disk_type, disk.size_gb, disk.regional)
            if line is None:
                unpriced.append(
                    {
                        "scanner": self.name,
                        "resource_id": disk.name,
                        "sku": f"gcp.pd:{disk.disk_type}:{disk.region}",
                    }
                )
                missing = [*missing, f"gcp.pd:{disk.disk_type}:{disk.region}"]
            else:
                storage.append(line)
        lines.extend(storage)
        metrics: dict[str, float | None] = dict(utilisation or {})
        metrics["compute_monthly_usd"] = round(compute_usd, 6)
        metrics["attached_disk_gb"] = float(sum(d.size_gb for d in disks))
        metrics["attached_storage_monthly_usd"] = round(sum(x.monthly_usd for x in storage), 6)
        if inst.status == "TERMINATED":
            metrics["stopped_days"] = age_days(inst.last_stop, ctx.now)
        metrics["gpu_count"] = float(count)
        metrics["age_days"] = age_days(inst.created, ctx.now)
        metrics["uptime_days"] = age_days(inst.last_start, ctx.now)
        rs_attrs = self._rightsize(ctx, inst, lines, metrics)
        evidence = []
        if inst.provisioning_model == "PREEMPTIBLE":
            evidence.append(PREEMPTIBLE_NOTE)
        elif inst.provisioning_model == "SPOT":
            evidence.append(SPOT_PRICED_NOTE)
        if utilisation is not None:
            source = (
                "CPU and GPU (Ops Agent)"
                if utilisation.get("gpu_util_max_pct") is not None
                else "CPU only (no Ops Agent GPU metrics)"
            )
            evidence.append(f"{ctx.options.lookback_days}-day window, daily statistics: {source}")
        return Observation(
            provider="gcp",
            kind="gcp.compute.instance",
            id=inst.id,
            covers=(overlap.gce_instance(project, inst.zone, inst.name),),
            account=project,
            region=inst.zone,
            name=inst.name,
            tags=inst.labels,
            owner=ctx.config.owner_from_tags(inst.labels),
            metrics=metrics,
            attributes={
                "state": inst.status.lower(),
                "machine_type": inst.machine_type,
                "family": common.machine_family(inst.machine_type),
                "accelerator_type": accel,
                "provisioning_model": inst.provisioning_model,
                "gpu_metrics": bool(utilisation and utilisation.get("gpu_util_max_pct") is not None),
                "launched_at": inst.last_start.isoformat() if inst.last_start else None,
                "lookback_days": ctx.options.lookback_days,
                **rs_attrs,
            },
            cost_lines=tuple(lines),
            evidence=tuple(evidence),
            unpriced=tuple(dict.fromkeys(missing)),
        )

    @staticmethod
    def _rightsize(
        ctx: ScanContext, inst: common.GceInstance, lines: list[Any], metrics: dict[str, float | None]
    ) -> dict[str, Any]:
        """`gpu-rightsize` inputs for a running on-demand A2/A3/G2 VM whose Ops Agent published
        GPU memory and utilisation (the machine type's price includes its GPUs)."""
        peak, per_gpu, activity = (
            metrics.get("gpu_mem_peak_gb"),
            metrics.get("gpu_mem_peak_per_gpu_gb"),
            metrics.get("gpu_util_max_pct"),
        )
        need = None
        if peak is not None and per_gpu is not None and activity is not None:
            need = GpuNeed(per_gpu, peak, activity, GPU_METRIC)
        machine = next((x for x in lines if x.sku.startswith("gcp.compute:")), None)
        on_demand = inst.provisioning_model not in SPOT_MODELS and len(lines) > 0
        hourly = machine.unit_price_usd if machine is not None and on_demand else None
        rs_metrics, attrs = rightsize_metrics(ctx.prices, "gcp", inst.region, inst.machine_type, hourly, need)
        metrics.update({k: v for k, v in rs_metrics.items() if metrics.get(k) is None})
        return attrs

    def _disk(
        self, ctx: ScanContext, project: str, disk: common.GceDisk, unpriced: list[dict[str, str]]
    ) -> Observation:
        line = disk_line(ctx.prices, disk.region, disk.disk_type, disk.size_gb, disk.regional)
        if line is None:
            unpriced.append(
                {
                    "scanner": self.name,
                    "resource_id": disk.name,
                    "sku": f"gcp.pd:{disk.disk_type}:{disk.region}",
                }
            )
        detached = disk.last_detach or disk.created
        return Observation(
            provider="gcp",
            kind="gcp.compute.disk",
            id=disk.id,
            account=project,
            region=disk.location,
            name=disk.name,
            tags=disk.labels,
            owner=ctx.config.owner_from_tags(disk.labels),
            metrics={
                "size_gb": float(disk.size_gb),
                "age_days": age_days(disk.created, ctx.now),
                "unattached_days": age_days(detached, ctx.now),
            },
            attributes={
                "state": "unattached",
                "status": disk.status,
                "disk_type": disk.disk_type,
                "regional": disk.regional,
                "created_at": disk.created.isoformat() if disk.created else None,
                "last_detached_at": disk.last_detach.isoformat() if disk.last_detach else None,
                "ever_attached": disk.last_attach is not None,
            },
            cost_lines=(line,) if line else (),
            unpriced=() if line else (f"gcp.pd:{disk.disk_type}:{disk.region}",),
        )
