"""Vertex AI endpoints whose dedicated prediction nodes bill while serving nothing.

A model deployed with `dedicatedResources` keeps at least `minReplicaCount` nodes of its
`machineSpec` (machine type plus accelerators) running, and Vertex AI bills each node per hour
whether or not a prediction arrives. Per project: one `projects.locations.endpoints.list` per
Vertex region (`gcp.vertex_locations`, the API has no all-regions list), then one grouped
Cloud Monitoring call for `aiplatform.googleapis.com/prediction/online/prediction_count` summed per
endpoint over the window. Priced from the catalog's Vertex prediction rates (`gcp.vertex.predict`
per node-hour, `gcp.vertex.predict.gpu` per accelerator-hour), never the Compute Engine ones. A
machine type that comes with its GPUs (g2, a2, a3: the catalog's `accelerators_included`) has
one whole-node row; only GPUs attached to an N1 node are priced on top.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems
from aifinops_cli.core.models import HOURS_PER_MONTH, CostLine, Observation, ScanResult
from aifinops_cli.core.plugin import ScanContext, Scanner
from aifinops_cli.core.timeutil import age_days, parse_time
from aifinops_cli.scanners.gcp import common
from aifinops_cli.scanners.gcp.monitoring import Monitoring, Window, vertex_predictions
from aifinops_cli.scanners.gcp.provider import DEFAULT_VERTEX_LOCATIONS

NODE_SERVICE = "gcp.vertex.predict"
SPOT_NOTE = "Spot prediction nodes: priced at the on-demand Vertex rate (an upper bound)"


def vertex_locations(ctx: ScanContext) -> list[str]:
    return list(dict.fromkeys(ctx.settings("gcp").vertex_locations or DEFAULT_VERTEX_LOCATIONS))


def node_lines(
    prices: Any, region: str, spec: dict[str, Any], replicas: int, model: str
) -> tuple[list[CostLine], list[str]]:
    """`replicas` prediction nodes for a month: the machine per node-hour plus, on a machine
    that takes attached GPUs (N1), its accelerators per accelerator-hour. A machine type whose
    row already includes its GPUs (`accelerators_included`) is priced once. Returns the lines
    and the SKUs the catalog lacks."""
    lines: list[CostLine] = []
    missing: list[str] = []
    machine = str(spec.get("machineType", ""))
    hours = HOURS_PER_MONTH * replicas
    count = int(spec.get("acceleratorCount") or 0)
    accel = common.accelerator_name(str(spec.get("acceleratorType", "")))
    has_gpus = bool(count and accel and accel != "accelerator-type-unspecified")
    bundled = prices.includes_accelerators(NODE_SERVICE, machine)
    what = f"{replicas} x {machine} prediction node"
    if bundled and has_gpus:
        what = f"{what} with its {count} x {accel}"
    line = prices.line(NODE_SERVICE, machine, region, hours, f"{what} ({model})")
    if line is None:
        missing.append(f"{NODE_SERVICE}:{machine}:{region}")
    else:
        lines.append(line)
    if has_gpus and not bundled:
        gpu = prices.line(
            "gcp.vertex.predict.gpu",
            accel,
            region,
            hours * count,
            f"{replicas} x {count} x {accel} on prediction nodes ({model})",
        )
        if gpu is None:
            missing.append(f"gcp.vertex.predict.gpu:{accel}:{region}")
        else:
            lines.append(gpu)
    return lines, missing


class VertexEndpointScanner(Scanner):
    name = "gcp.vertex"
    provider = "gcp"
    description = (
        "Vertex AI endpoints with dedicated prediction nodes and their online predictions "
        "(Cloud Monitoring) over the lookback window"
    )
    kinds = ("gcp.vertex.endpoint",)
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "gcp.vertex.endpoint": (
            "accelerator_count",
            "accelerator_type",
            "age_days",
            "deployed_days",
            "deployed_models",
            "lookback_days",
            "machine_type",
            "max_replicas",
            "models",
            "predictions",
            "replicas",
            "spot",
        ),
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        window = Window.ending(ctx.now, ctx.options.lookback_days)
        locations = vertex_locations(ctx)

        def work(project: str) -> ScopeItems:
            api = common.RestList(ctx, "aiplatform")
            found: list[tuple[str, dict[str, Any]]] = []
            failed: list[str] = []
            last: BaseException | None = None
            for location in locations:
                path = f"/v1/projects/{project}/locations/{location}/endpoints"
                try:
                    found.extend((location, e) for e in api.items(path, "endpoints", location))
                except common.expected_errors() as exc:
                    if common.api_disabled(exc):  # the same in every region: no Vertex AI here
                        return ScopeItems([], "Vertex AI API not enabled: no endpoints")
                    failed.append(common.explain(exc, location))
                    last = exc
            if last is not None and len(failed) == len(locations):
                raise last  # every region refused: the project's one failed coverage line
            dedicated = [
                (loc, e) for loc, e in found if any(_dedicated(m) for m in e.get("deployedModels", []))
            ]
            problems = [f"endpoints not listed in {f}" for f in failed]
            predictions: dict[str, float] | None = None
            if dedicated:
                try:
                    predictions = vertex_predictions(Monitoring(common.access(ctx), ctx), project, window)
                except common.expected_errors() as exc:
                    problems.append(f"predictions not read: {common.explain(exc, 'monitoring')}")
            unpriced: list[dict[str, str]] = []
            out = [self._endpoint(ctx, project, loc, e, predictions, unpriced) for loc, e in dedicated]
            note = (
                f"{len(found)} endpoints in {len(locations) - len(failed)} regions, "
                f"{len(dedicated)} with dedicated nodes"
            )
            if problems:
                note = f"{note}; " + "; ".join(problems)
            return ScopeItems(out, note, partial=bool(problems), unpriced=unpriced)

        done = common.for_each_project(ctx, self.name, work)
        return ScanResult(self.name, done.observations, done.coverage, unpriced=done.unpriced)

    def _endpoint(
        self,
        ctx: ScanContext,
        project: str,
        location: str,
        endpoint: dict[str, Any],
        predictions: dict[str, float] | None,
        unpriced: list[dict[str, str]],
    ) -> Observation:
        endpoint_id = common.last_segment(str(endpoint.get("name", "")))
        models = [m for m in endpoint.get("deployedModels", []) if _dedicated(m)]
        lines: list[CostLine] = []
        missing: list[str] = []
        replicas = max_replicas = 0
        spot = False
        newest = None
        for model in models:
            res = model["dedicatedResources"]
            count = int(res.get("minReplicaCount") or 1)  # the floor that always runs
            replicas += count
            max_replicas += int(res.get("maxReplicaCount") or count)
            spot = spot or bool(res.get("spot"))
            label = str(model.get("displayName") or model.get("id", ""))
            got, lacking = node_lines(ctx.prices, location, res.get("machineSpec", {}), count, label)
            lines.extend(got)
            missing.extend(lacking)
            created = parse_time(model.get("createTime"))
            if created is not None and (newest is None or created > newest):
                newest = created
        unpriced.extend({"scanner": self.name, "resource_id": endpoint_id, "sku": s} for s in missing)
        first = models[0]["dedicatedResources"].get("machineSpec", {})
        labels = dict(endpoint.get("labels", {}))
        evidence = [
            f"{ctx.options.lookback_days}-day window: online predictions from "
            "aiplatform.googleapis.com/prediction/online/prediction_count",
            f"{replicas} node(s) always running (sum of minReplicaCount), up to {max_replicas}",
        ]
        if spot:
            evidence.append(SPOT_NOTE)
        return Observation(
            provider="gcp",
            kind="gcp.vertex.endpoint",
            id=endpoint_id,
            account=project,
            region=location,
            name=str(endpoint.get("displayName") or endpoint_id),
            tags=labels,
            owner=ctx.config.owner_from_tags(labels),
            metrics={
                "replicas": float(replicas),
                "max_replicas": float(max_replicas),
                "deployed_models": float(len(models)),
                "accelerator_count": float(first.get("acceleratorCount") or 0),
                # None: Monitoring not read; 0: read, and the endpoint served nothing
                "predictions": None if predictions is None else float(predictions.get(endpoint_id, 0.0)),
                "age_days": age_days(parse_time(endpoint.get("createTime")), ctx.now),
                "deployed_days": age_days(newest, ctx.now),
            },
            attributes={
                "machine_type": str(first.get("machineType", "")),
                "accelerator_type": common.accelerator_name(str(first.get("acceleratorType", ""))),
                "models": [str(m.get("displayName") or m.get("id", "")) for m in models],
                "spot": spot,
                "lookback_days": ctx.options.lookback_days,
            },
            cost_lines=tuple(lines),
            evidence=tuple(evidence),
            unpriced=tuple(dict.fromkeys(missing)),
        )


def _dedicated(model: dict[str, Any]) -> bool:
    return bool(model.get("dedicatedResources", {}).get("machineSpec"))
