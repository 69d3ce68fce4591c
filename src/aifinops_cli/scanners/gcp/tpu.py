"""Cloud TPU VMs that are READY (billing per chip-hour) while their TensorCores do nothing.

Per project: one `projects.locations.nodes.list` over every zone (`locations/-`, TPU API v2), then
Cloud Monitoring for the READY nodes: the TensorCore duty cycle
(`tpu.googleapis.com/accelerator/duty_cycle`, daily max and mean) and, for TPU Nodes, the
workers' CPU (`tpu.googleapis.com/cpu/utilization`), grouped server-side: five calls per project.
TPU Node series (`tpu_worker`) name their node; TPU VM series (`tpu.googleapis.com/GceTpuWorker`)
name only their zone and worker, so a TPU VM is judged by the busiest TPU worker of its zone: a
low maximum there means every TPU VM of the zone is idle, a high one is attributed to none (the
node is then not called idle). Priced per chip-hour by TPU version from the catalog (`gcp.tpu`).
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import HOURS_PER_MONTH, Observation, ScanResult
from aifinops_cli.core.plugin import ScanContext, Scanner
from aifinops_cli.core.timeutil import age_days, parse_time
from aifinops_cli.scanners.gcp import common
from aifinops_cli.scanners.gcp.monitoring import Monitoring, TpuActivity, Window, tpu_activity

# versions whose accelerator-type suffix counts TensorCores (2 per chip); the others count chips
_CORES_IN_NAME = ("v2", "v3", "v4", "v5p")
_CONFIG_VERSION = {"V2": "v2", "V3": "v3", "V4": "v4", "V5P": "v5p", "V5LITE_POD": "v5litepod", "V6E": "v6e"}
_TYPE = re.compile(r"^(v\d+[a-z]*)-(\d+)$")
SPOT_NOTE = "Spot/preemptible TPU: priced at the on-demand chip-hour rate (an upper bound)"


def tpu_chips(node: dict[str, Any]) -> tuple[str, int]:
    """(TPU version, chips) from `acceleratorType` (v4-8 is 4 chips, v5litepod-8 is 8), else from
    `acceleratorConfig` (type and topology, e.g. V5P 2x2x1 is 4 chips)."""
    m = _TYPE.match(str(node.get("acceleratorType", "")).strip())
    if m:
        version, n = m.group(1), int(m.group(2))
        if version == "v5e":
            version = "v5litepod"
        return version, max(n // 2, 1) if version in _CORES_IN_NAME else n
    config = node.get("acceleratorConfig", {})
    version = _CONFIG_VERSION.get(str(config.get("type", "")), "")
    dims = [int(d) for d in str(config.get("topology", "")).split("x") if d.isdigit()]
    return version, math.prod(dims) if dims and version else 0


class TpuNodeScanner(Scanner):
    name = "gcp.tpu"
    provider = "gcp"
    description = "Cloud TPU VMs (READY) and their TensorCore duty cycle over the lookback window"
    kinds = ("gcp.tpu.node",)
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "gcp.tpu.node": (
            "accelerator_type",
            "age_days",
            "chips",
            "cpu_max_pct",
            "duty_cycle_avg_pct",
            "duty_cycle_max_pct",
            "duty_cycle_scope",
            "lookback_days",
            "metric_days",
            "runtime_version",
            "spot",
            "state",
            "tpu_version",
            "workers",
        ),
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        window = Window.ending(ctx.now, ctx.options.lookback_days)

        def work(project: str) -> ScopeItems:
            nodes = common.RestList(ctx, "tpu").every_location(project, "nodes")
            if nodes is None:
                return ScopeItems([], "Cloud TPU API not enabled: no TPU nodes")
            ready = [n for n in nodes if n.get("state") == "READY"]
            problems: list[str] = []
            activity: TpuActivity | None = None
            if ready:
                try:
                    activity = tpu_activity(Monitoring(common.access(ctx), ctx), project, window)
                except common.expected_errors() as exc:
                    problems.append(f"TPU metrics not read: {common.explain(exc, 'monitoring')}")
            unpriced: list[dict[str, str]] = []
            per_zone: dict[str, int] = {}
            for n in ready:
                per_zone[_zone(n)] = per_zone.get(_zone(n), 0) + 1
            out = [self._node(ctx, project, n, activity, per_zone, unpriced) for n in ready]
            note = f"{len(nodes)} TPU nodes, {len(ready)} ready"
            if problems:
                note = f"{note}; " + "; ".join(problems)
            return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

        done = common.for_each_project(ctx, self.name, work)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    def _node(
        self,
        ctx: ScanContext,
        project: str,
        node: dict[str, Any],
        activity: TpuActivity | None,
        per_zone: dict[str, int],
        unpriced: list[dict[str, str]],
    ) -> Observation:
        name = str(node.get("name", "")).rsplit("/", 1)[-1]
        zone = _zone(node)
        region = common.region_of_zone(zone)
        version, chips = tpu_chips(node)
        accel = str(node.get("acceleratorType") or version)
        line = ctx.prices.line(
            "gcp.tpu", version, region, HOURS_PER_MONTH * chips, f"{accel}: {chips} {version} chips"
        )
        missing = [] if line is not None else [f"gcp.tpu:{version}:{region}"]
        unpriced.extend({"scanner": self.name, "resource_id": name, "sku": s} for s in missing)
        sched = node.get("schedulingConfig", {})
        spot = bool(sched.get("spot") or sched.get("preemptible"))
        metrics: dict[str, float | None] = {"metric_days": 0.0}
        scope = ""
        if activity is not None:
            own = activity.by_node.get(name) or activity.by_node.get(str(node.get("id", "")))
            if own:
                metrics.update(own)
                scope = "node"
            elif zone in activity.by_zone:
                metrics.update(activity.by_zone[zone])
                scope = "zone"
        metrics.update(
            {
                "chips": float(chips),
                "workers": float(len(node.get("networkEndpoints", [])) or 1),
                "age_days": age_days(parse_time(node.get("createTime")), ctx.now),
            }
        )
        evidence = []
        if activity is not None:
            source = (
                "TensorCore duty cycle"
                if metrics.get("duty_cycle_max_pct") is not None
                else "worker CPU only (no duty-cycle series)"
            )
            evidence.append(f"{ctx.options.lookback_days}-day window, daily statistics: {source}")
            if scope == "zone":
                evidence.append(
                    f"duty cycle is the busiest TPU VM worker of {zone} "
                    f"({per_zone.get(zone, 1)} READY node(s) there): TPU VM series name no node"
                )
        if spot:
            evidence.append(SPOT_NOTE)
        labels = dict(node.get("labels", {}))
        return Observation(
            provider="gcp",
            kind="gcp.tpu.node",
            id=str(node.get("id") or name),
            account=project,
            region=zone,
            name=name,
            tags=labels,
            owner=ctx.config.owner_from_tags(labels),
            metrics=metrics,
            attributes={
                "state": "ready",
                "accelerator_type": accel,
                "tpu_version": version,
                "duty_cycle_scope": scope,  # node, zone (TPU VMs), or "" (no series)
                "runtime_version": str(node.get("runtimeVersion", "")),
                "spot": spot,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=(line,) if line is not None else (),
            evidence=tuple(evidence),
            unpriced=tuple(missing),
        )


def _zone(node: dict[str, Any]) -> str:
    parts = str(node.get("name", "")).split("/")
    return parts[parts.index("locations") + 1] if "locations" in parts else ""
