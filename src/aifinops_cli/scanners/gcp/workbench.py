"""Vertex AI Workbench instances left ACTIVE with nobody using them.

A Workbench instance is a Compute Engine VM of the same name in its zone (labelled
`goog-caip-notebook`, which `gcp.compute` therefore leaves to this scanner), billed at Compute
Engine rates while ACTIVE. Per project: one Notebooks API v2 `projects.locations.instances.list`
over every zone (`locations/-`); the backing VMs come from the project's instance inventory (the
aggregatedList `gcp.compute` reads, once per scan) and their utilisation from the same batched
Cloud Monitoring queries as `gcp.compute` (CPU, and the Ops Agent's GPU utilisation where
installed). Whether idle shutdown is configured (`idle-timeout-seconds` in the instance's
metadata) is reported with it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core import overlap
from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import CostLine, Observation, ScanResult
from aifinops_cli.core.plugin import ScanContext, Scanner
from aifinops_cli.core.timeutil import age_days, parse_time
from aifinops_cli.scanners.gcp import common
from aifinops_cli.scanners.gcp.monitoring import Monitoring, Window, instance_utilisation
from aifinops_cli.scanners.gcp.pricing import instance_lines, read_list_prices

IDLE_TIMEOUT_KEY = "idle-timeout-seconds"
FEE_NOTE = "priced as its Compute Engine VM (machine and GPUs); the Workbench management fee is not included"


def setup_accelerators(setup: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """`gceSetup.acceleratorConfigs` as Compute Engine (type, count) pairs."""
    return tuple(
        (common.accelerator_name(str(a.get("type", ""))), int(a.get("coreCount") or 0))
        for a in setup.get("acceleratorConfigs", [])
        if int(a.get("coreCount") or 0)
    )


class WorkbenchScanner(Scanner):
    name = "gcp.workbench"
    provider = "gcp"
    description = (
        "Vertex AI Workbench instances (ACTIVE) and the CPU/GPU utilisation of their VMs "
        "over the lookback window"
    )
    kinds = ("gcp.workbench.instance",)
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "gcp.workbench.instance": (
            "accelerator_type",
            "age_days",
            "compute_monthly_usd",
            "cpu_avg_pct",
            "cpu_max_pct",
            "creator",
            "gpu_count",
            "gpu_metrics",
            "gpu_util_avg_pct",
            "gpu_util_max_pct",
            "idle_shutdown",
            "idle_timeout_minutes",
            "lookback_days",
            "machine_type",
            "metric_days",
            "state",
            "vm_found",
        ),
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        window = Window.ending(ctx.now, ctx.options.lookback_days)

        def work(project: str) -> ScopeItems:
            listed = common.RestList(ctx, "notebooks").every_location(project, "instances")
            if listed is None:
                return ScopeItems([], "Notebooks API not enabled: no Workbench instances")
            active = [i for i in listed if i.get("state") == "ACTIVE"]
            problems: list[str] = []
            vms: dict[str, common.GceInstance] = {}
            utilisation: dict[str, dict[str, float | None]] = {}
            if active:
                inv = common.inventory(ctx, project)
                problems.extend(inv.warnings)
                vms = {f"{i.zone}/{i.name}": i for i in inv.instances}
                running = [
                    vms[_key(i)] for i in active if _key(i) in vms and vms[_key(i)].status == "RUNNING"
                ]
                price_note = read_list_prices(ctx, running, [])
                if price_note:
                    problems.append(price_note)
                if running:
                    try:
                        utilisation = instance_utilisation(
                            Monitoring(common.access(ctx), ctx), project, [v.id for v in running], window
                        )
                    except common.expected_errors() as exc:
                        problems.append(f"utilisation not read: {common.explain(exc, 'monitoring')}")
            unpriced: list[dict[str, str]] = []
            out = [self._instance(ctx, project, i, vms.get(_key(i)), utilisation, unpriced) for i in active]
            note = f"{len(listed)} Workbench instances, {len(active)} active"
            if problems:
                note = f"{note}; " + "; ".join(problems)
            partial = any(not p.startswith("prices from") for p in problems)
            return ScopeItems(out, note, partial=partial, unpriced=unpriced)

        done = common.for_each_project(ctx, self.name, work)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    def _instance(
        self,
        ctx: ScanContext,
        project: str,
        inst: dict[str, Any],
        vm: common.GceInstance | None,
        utilisation: dict[str, dict[str, float | None]],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        zone, name = _key(inst).split("/", 1)
        setup = inst.get("gceSetup", {})
        machine = vm.machine_type if vm else str(setup.get("machineType", ""))
        accels = vm.accelerators if vm else setup_accelerators(setup)
        if accels:
            accel, count = accels[0][0], sum(n for _, n in accels)
        else:
            accel, count = common.bundled_gpus(machine)
        lines: list[CostLine] = []
        missing: list[str] = []
        if vm is None or vm.status == "RUNNING":
            lines, missing = instance_lines(ctx.prices, common.region_of_zone(zone), machine, accels)
        unpriced.extend({"scanner": self.name, "resource_id": name, "sku": s} for s in missing)
        usage = dict(utilisation.get(vm.id, {})) if vm else {}
        timeout = str(setup.get("metadata", {}).get(IDLE_TIMEOUT_KEY, "")).strip()
        minutes = float(timeout) / 60 if timeout.isdigit() and int(timeout) > 0 else None
        metrics: dict[str, float | None] = {
            "metric_days": 0.0,
            **usage,
            "gpu_count": float(count),
            "compute_monthly_usd": round(sum(x.monthly_usd for x in lines), 6),
            "age_days": age_days(parse_time(inst.get("createTime")), ctx.now),
            "idle_timeout_minutes": minutes,
        }
        evidence = [FEE_NOTE]
        if usage:
            source = (
                "CPU and GPU (Ops Agent)"
                if usage.get("gpu_util_max_pct") is not None
                else "CPU only (no Ops Agent GPU metrics)"
            )
            evidence.append(f"{ctx.options.lookback_days}-day window, daily statistics of the VM: {source}")
        if vm is None:
            evidence.append(f"its VM {zone}/{name} was not in the instance list: machine type from gceSetup")
        evidence.append(
            f"idle shutdown after {minutes:g} minutes configured"
            if minutes
            else "idle shutdown not configured"
        )
        labels = dict(inst.get("labels", {}))
        creator = str(inst.get("creator", ""))
        return Observation(
            provider="gcp",
            kind="gcp.workbench.instance",
            id=str(inst.get("id") or name),
            covers=(overlap.gce_instance(project, zone, name),),
            account=project,
            region=zone,
            name=name,
            tags=labels,
            owner=ctx.config.owner_from_tags(labels) or creator,
            metrics=metrics,
            attributes={
                "state": "active",
                "machine_type": machine,
                "accelerator_type": accel,
                "creator": creator,
                "idle_shutdown": minutes is not None,
                "gpu_metrics": usage.get("gpu_util_max_pct") is not None,
                "vm_found": vm is not None,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=tuple(lines),
            evidence=tuple(evidence),
            unpriced=tuple(dict.fromkeys(missing)),
        )


def _key(inst: dict[str, Any]) -> str:
    """`projects/P/locations/ZONE/instances/NAME` -> `ZONE/NAME` (the backing VM's key)."""
    parts = str(inst.get("name", "")).split("/")
    zone = parts[parts.index("locations") + 1] if "locations" in parts else ""
    return f"{zone}/{parts[-1]}"
