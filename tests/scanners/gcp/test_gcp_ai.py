"""Vertex AI endpoints, TPU VMs, Workbench instances and GPU leftovers (snapshots, images) against
the local fake answering the REST shapes of the Vertex AI, Cloud TPU v2, Notebooks v2, Compute
Engine and Cloud Monitoring APIs. Rates: pricing/data/gcp_ai.yaml (gcp-ai-capacity) and the
Compute Engine catalogs; 730 hours a month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Confidence, Severity
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.gcp import (
    FakeGcp,
    FakeProject,
    deployed_model_json,
    disk_json,
    endpoint_json,
    image_json,
    instance_json,
    series_json,
    serve,
    snapshot_json,
    tpu_node_json,
    workbench_json,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.images import GceImageSnapshotScanner, gpu_words
from aifinops_cli.scanners.gcp.monitoring import (
    CPU_METRIC,
    TPU_CPU_METRIC,
    TPU_DUTY_METRIC,
    VERTEX_PREDICTIONS_METRIC,
)
from aifinops_cli.scanners.gcp.provider import GcpSettings
from aifinops_cli.scanners.gcp.tpu import TpuNodeScanner, tpu_chips
from aifinops_cli.scanners.gcp.vertex import VertexEndpointScanner, node_lines
from aifinops_cli.scanners.gcp.workbench import WorkbenchScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
END = NOW.replace(minute=0)
P = "ml-prod"
GIB = 2**30
ZONE = "us-central1-a"
SCANNERS = (VertexEndpointScanner, TpuNodeScanner, WorkbenchScanner, GceImageSnapshotScanner)


def _days(n: float) -> datetime:
    return NOW - timedelta(days=n)


def build_ai_estate() -> FakeGcp:
    proj = FakeProject()
    # --- Vertex AI: endpoints in two regions ---
    proj.endpoints["us-central1"] = [
        endpoint_json(
            "123456789012",
            "us-central1",
            "1001",
            "reranker",
            [
                deployed_model_json(
                    "9001",
                    "reranker-v3",
                    "g2-standard-8",
                    accelerator=("NVIDIA_L4", 1),
                    replicas=(2, 4),
                    created=_days(45),
                )
            ],
            created=_days(60),
            labels={"team": "search"},
        ),
        endpoint_json(
            "123456789012",
            "us-central1",
            "1002",
            "churn",
            [deployed_model_json("9002", "churn-v1", "n1-standard-4", created=_days(90))],
            created=_days(90),
        ),
        # AutoML-style automatic resources only: nothing dedicated to price
        endpoint_json(
            "123456789012",
            "us-central1",
            "1003",
            "automl",
            [{"id": "9003", "displayName": "tabular", "automaticResources": {"minReplicaCount": 1}}],
            created=_days(90),
        ),
    ]
    proj.endpoints["europe-west4"] = [
        endpoint_json(
            "123456789012",
            "europe-west4",
            "1004",
            "eu-fresh",
            [
                deployed_model_json(
                    "9004",
                    "eu-t4",
                    "n1-standard-4",
                    accelerator=("NVIDIA_TESLA_T4", 1),
                    created=_days(3),
                    location="europe-west4",
                )
            ],
            created=_days(3),
        )
    ]
    proj.series[(VERTEX_PREDICTIONS_METRIC, "ALIGN_SUM")] = [
        series_json(
            VERTEX_PREDICTIONS_METRIC,
            {},
            "aiplatform.googleapis.com/Endpoint",
            {"resource_container": "123456789012", "location": "us-central1", "endpoint_id": "1002"},
            [100] * 14,
            END,
            int_values=True,
        )
    ]
    # --- Cloud TPU ---
    proj.tpu_nodes = [
        tpu_node_json(P, ZONE, "jax-idle", "v5litepod-8", "801", created=_days(30), workers=2),
        tpu_node_json(P, "us-central2-b", "train-busy", "v4-8", "802", created=_days(30)),
        tpu_node_json(P, "us-central1-b", "old-v2", "v2-8", "803", created=_days(100)),
        tpu_node_json(P, "us-central1-c", "stopped-v3", "v3-8", "804", created=_days(100), state="STOPPED"),
        # two TPU VMs sharing a zone where one of them works: neither can be called idle
        tpu_node_json(P, "us-central1-f", "shared-a", "v5litepod-8", "805", created=_days(30)),
        tpu_node_json(P, "us-central1-f", "shared-b", "v5litepod-8", "806", created=_days(30)),
    ]

    def vm_worker(metric: str, zone: str, worker: str, value: float) -> dict:
        """A TPU VM worker's series: GceTpuWorker names the zone and worker, not the node."""
        labels = {"resource_container": "123456789012", "location": zone, "worker_id": worker}
        return series_json(
            metric, {"accelerator_id": "0"}, "tpu.googleapis.com/GceTpuWorker", labels, [value] * 14, END
        )

    def node_worker(metric: str, node: str, zone: str, value: float) -> dict:
        """A TPU Node worker's series (the older architecture): tpu_worker names the node."""
        labels = {"project_id": P, "zone": zone, "node_id": node, "worker_id": "0"}
        return series_json(metric, {}, "tpu_worker", labels, [value] * 14, END)

    # as the server returns them grouped: one series per zone (TPU VMs) or per node (TPU Nodes)
    proj.series[(TPU_DUTY_METRIC, "ALIGN_MAX")] = [
        vm_worker(TPU_DUTY_METRIC, ZONE, "w-801", 0.5),
        vm_worker(TPU_DUTY_METRIC, "us-central2-b", "w-802", 85.0),
        vm_worker(TPU_DUTY_METRIC, "us-central1-f", "w-806", 70.0),
    ]
    proj.series[(TPU_DUTY_METRIC, "ALIGN_MEAN")] = [
        vm_worker(TPU_DUTY_METRIC, ZONE, "w-801", 0.1),
        vm_worker(TPU_DUTY_METRIC, "us-central2-b", "w-802", 60.0),
        vm_worker(TPU_DUTY_METRIC, "us-central1-f", "w-806", 35.0),
    ]
    proj.series[(TPU_CPU_METRIC, "ALIGN_MAX")] = [
        node_worker(TPU_CPU_METRIC, "old-v2", "us-central1-b", 2.0),  # a TPU Node: CPU only
    ]
    # --- Workbench: the instances and their VMs ---
    wb = {"goog-caip-notebook": ""}
    proj.workbench = [
        workbench_json(
            P,
            ZONE,
            "nb-lee",
            "n1-standard-8",
            accelerators=[("NVIDIA_TESLA_T4", 1)],
            creator="lee@acme.example",
            created=_days(40),
        ),
        workbench_json(P, ZONE, "nb-cpu", "e2-standard-4", created=_days(40), idle_timeout_seconds=10800),
        workbench_json(P, ZONE, "nb-stopped", "n1-standard-4", created=_days(40), state="STOPPED"),
    ]
    proj.instances[ZONE] = [
        instance_json(
            P,
            "nb-lee",
            ZONE,
            "n1-standard-8",
            501,
            accelerators=[("nvidia-tesla-t4", 1)],
            labels=wb,
            created=_days(40),
            started=_days(20),
        ),
        instance_json(
            P, "nb-cpu", ZONE, "e2-standard-4", 502, labels=wb, created=_days(40), started=_days(20)
        ),
    ]
    for iid, name in (("501", "nb-lee"), ("502", "nb-cpu")):
        labels = {"instance_id": iid, "zone": ZONE, "project_id": P}
        for aligner, value in (("ALIGN_MEAN", 0.009), ("ALIGN_MAX", 0.035)):
            proj.series.setdefault((CPU_METRIC, aligner), []).append(
                series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", labels, [value] * 14, END)
            )
    proj.disks[ZONE] = [
        disk_json(P, "nb-lee", ZONE, "pd-balanced", 150, 601, users=["nb-lee"], created=_days(40)),
    ]
    # --- snapshots and images ---
    proj.snapshots = [
        snapshot_json(
            P,
            "a100-trainer-final",
            701,
            source_disk=f"{ZONE}/a100-trainer",
            disk_size_gb=1000,
            storage_bytes=800 * GIB,
            created=_days(120),
        ),
        snapshot_json(
            P,
            "nb-lee-backup",
            702,
            source_disk=f"{ZONE}/nb-lee",
            disk_size_gb=150,
            storage_bytes=40 * GIB,
            created=_days(60),
        ),
        snapshot_json(
            P,
            "web-snap",
            703,
            source_disk=f"{ZONE}/web-1",
            disk_size_gb=50,
            storage_bytes=20 * GIB,
            created=_days(90),
        ),
        snapshot_json(
            P,
            "old-h100-archive",
            704,
            source_disk=f"{ZONE}/h100-box",
            disk_size_gb=2000,
            storage_bytes=500 * GIB,
            created=_days(200),
            location="us-central1",
            snapshot_type="ARCHIVE",
        ),
    ]
    proj.images = [
        image_json(
            P,
            "train-cu121-2026-06",
            711,
            source_disk=f"{ZONE}/trainer",
            disk_size_gb=200,
            archive_size_bytes=60 * GIB,
            family="train-cu121",
            created=_days(150),
        ),
        image_json(
            P,
            "fresh-gpu-image",
            712,
            source_disk=f"{ZONE}/gpu-builder",
            disk_size_gb=100,
            archive_size_bytes=30 * GIB,
            created=_days(10),
        ),
    ]
    return FakeGcp(projects={P: proj}, denied={"locked-proj"})


def _context(url: str, projects: list[str] | None = None) -> ScanContext:
    settings = GcpSettings(
        projects=projects or [P], endpoints={"": url}, vertex_locations=["us-central1", "europe-west4"]
    )
    options = ScanOptions(providers=["gcp"], lookback_days=14, settings={"gcp": settings})
    return ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)


@pytest.fixture(scope="module")
def scanned() -> Iterator[tuple[FakeGcp, dict]]:
    """One scan of the estate by the four scanners (shared: the tests only read it)."""
    estate = build_ai_estate()
    with serve(estate) as url:
        ctx = _context(url)
        results = {cls.name: cls(ctx).scan() for cls in SCANNERS}
    yield estate, results


def _by_name(result) -> dict:
    return {o.name: o for o in result.observations}


def _found(result) -> dict:
    return {f.observation.name: f for f in evaluate(load_rules(), result.observations)}


def test_vertex_endpoints_priced_per_replica(scanned) -> None:
    estate, results = scanned
    result = results["gcp.vertex"]
    obs = _by_name(result)
    assert set(obs) == {"reranker", "churn", "eu-fresh"}  # automatic resources only: not dedicated
    reranker = obs["reranker"]
    # a g2-standard-8 comes with its L4: one whole-node row, the L4 not priced again
    # 2 replicas x g2-standard-8 0.981668 x 730 = 1,433.23528 (not 2 x (0.8825 + 0.6440) x 730)
    assert reranker.monthly_cost_usd == pytest.approx(2 * 0.981668 * 730)
    assert [line.sku for line in reranker.cost_lines] == ["gcp.vertex.predict:g2-standard-8:us-central1"]
    assert reranker.cost_lines[0].description == (
        "2 x g2-standard-8 prediction node with its 1 x nvidia-l4 (reranker-v3)"
    )
    assert reranker.cost_lines[0].quantity == 1460.0 and reranker.cost_lines[0].source == "gcp-ai-capacity"
    assert reranker.metrics["predictions"] == 0.0 and reranker.metrics["replicas"] == 2.0
    assert reranker.metrics["deployed_days"] == 45.0
    # churn: 14 days x 100 predictions = 1,400; n1-standard-4 0.2185 x 730 = 159.505
    assert obs["churn"].metrics["predictions"] == 1400.0
    assert obs["churn"].monthly_cost_usd == pytest.approx(159.505)
    # eu-fresh: (n1-standard-4 0.2406 + T4 0.4226) x 730 = 0.6632 x 730 = 484.136 (europe-west4)
    assert obs["eu-fresh"].monthly_cost_usd == pytest.approx(484.136)
    found = _found(result)
    assert set(found) == {"reranker"}  # churn serves; eu-fresh deployed 3 days ago
    assert found["reranker"].severity == Severity.HIGH
    assert found["reranker"].estimated_monthly_savings_usd == pytest.approx(1433.24)
    # one list per region and one grouped Monitoring call for the project
    assert estate.count("/endpoints") == 2
    assert sum(1 for _, path, q in estate.calls if "prediction_count" in q.get("filter", [""])[0]) == 1


def _spec(machine: str, accel: str = "", count: int = 0) -> dict:
    return {"machineType": machine, "acceleratorType": accel, "acceleratorCount": count}


def test_machine_types_with_their_gpus_are_priced_once() -> None:
    """The bundled catalog's `accelerators_included` (g2, a2, a3): one whole-node line, the GPUs
    the machine type fixes are not added again; an N1 node's attached GPUs are."""
    prices = load_catalog()
    # g2-standard-8 with its L4, 2 replicas: 0.981668 x 1,460 h = 1,433.23528
    lines, missing = node_lines(prices, "us-central1", _spec("g2-standard-8", "NVIDIA_L4", 1), 2, "m")
    assert missing == [] and [x.sku for x in lines] == ["gcp.vertex.predict:g2-standard-8:us-central1"]
    assert sum(x.monthly_usd for x in lines) == pytest.approx(0.981668 * 1460)
    # a2-highgpu-1g with its A100: 4.224393 x 730 = 3,083.80689 (before: 0.8504 + 3.3741 an hour)
    lines, missing = node_lines(prices, "us-east1", _spec("a2-highgpu-1g", "NVIDIA_TESLA_A100", 1), 1, "m")
    assert missing == [] and len(lines) == 1
    assert sum(x.monthly_usd for x in lines) == pytest.approx(4.224393 * 730)
    # europe-west4 g2-standard-8: 1.031782 x 730 = 753.20086
    lines, _ = node_lines(prices, "europe-west4", _spec("g2-standard-8", "NVIDIA_L4", 1), 1, "m")
    assert sum(x.monthly_usd for x in lines) == pytest.approx(1.031782 * 730)
    # n1-standard-4 + 2 attached T4: 0.2185 x 730 + 2 x 0.4025 x 730 = 159.505 + 587.65 = 747.155
    lines, missing = node_lines(prices, "us-central1", _spec("n1-standard-4", "NVIDIA_TESLA_T4", 2), 1, "m")
    assert missing == [] and [x.sku for x in lines] == [
        "gcp.vertex.predict:n1-standard-4:us-central1",
        "gcp.vertex.predict.gpu:nvidia-tesla-t4:us-central1",
    ]
    assert lines[1].quantity == 1460.0
    assert sum(x.monthly_usd for x in lines) == pytest.approx(159.505 + 587.65)
    # an a3 node the catalog lacks: unpriced as a whole node, never as a separate H100 line
    lines, missing = node_lines(prices, "us-central1", _spec("a3-highgpu-8g", "NVIDIA_H100_80GB", 8), 1, "m")
    assert lines == [] and missing == ["gcp.vertex.predict:a3-highgpu-8g:us-central1"]


def test_tpu_nodes_by_duty_cycle(scanned) -> None:
    estate, results = scanned
    obs = _by_name(results["gcp.tpu"])
    # STOPPED nodes do not bill chips
    assert set(obs) == {"jax-idle", "train-busy", "old-v2", "shared-a", "shared-b"}
    # v5litepod-8 = 8 chips x 1.20 x 730 = 7,008.00
    assert obs["jax-idle"].monthly_cost_usd == pytest.approx(7008.0)
    assert obs["jax-idle"].metrics["chips"] == 8 and obs["jax-idle"].metrics["workers"] == 2
    assert obs["jax-idle"].metrics["duty_cycle_max_pct"] == 0.5
    assert obs["jax-idle"].attributes["duty_cycle_scope"] == "zone"
    # v4-8 = 4 chips (the suffix counts TensorCores) x 3.22 x 730 = 9,402.40 (us-central2)
    assert obs["train-busy"].monthly_cost_usd == pytest.approx(9402.4)
    # v2-8 = 4 chips x 1.125 x 730 = 3,285.00; its tpu_worker series name it
    assert obs["old-v2"].monthly_cost_usd == pytest.approx(3285.0)
    assert obs["old-v2"].attributes["duty_cycle_scope"] == "node"
    assert obs["old-v2"].metrics["cpu_max_pct"] == 2.0 and obs["old-v2"].metrics["duty_cycle_max_pct"] is None
    # the zone's busiest worker (70%) is one of the two: neither is idle
    assert obs["shared-a"].metrics["duty_cycle_max_pct"] == 70.0
    assert any("2 READY node(s)" in e for e in obs["shared-a"].evidence)
    found = _found(results["gcp.tpu"])
    assert set(found) == {"jax-idle", "old-v2"}
    assert found["jax-idle"].confidence == Confidence.HIGH  # duty cycle measured
    assert found["old-v2"].confidence == Confidence.MEDIUM  # worker CPU only
    assert found["jax-idle"].estimated_monthly_savings_usd == pytest.approx(7008.0)
    assert estate.count("/locations/-/nodes") == 1
    tpu_queries = [q for _, _, q in estate.calls if "tpu.googleapis.com/" in q.get("filter", [""])[0]]
    assert len(tpu_queries) == 5  # duty max/mean for TPU VMs and TPU Nodes, CPU for TPU Nodes


def test_tpu_chip_counts() -> None:
    assert tpu_chips({"acceleratorType": "v5p-8"}) == ("v5p", 4)
    assert tpu_chips({"acceleratorType": "v6e-16"}) == ("v6e", 16)
    assert tpu_chips({"acceleratorConfig": {"type": "V5P", "topology": "2x2x2"}}) == ("v5p", 8)


def test_workbench_instances_and_compute_leaves_their_vms(scanned) -> None:
    estate, results = scanned
    obs = _by_name(results["gcp.workbench"])
    assert set(obs) == {"nb-lee", "nb-cpu"}
    lee = obs["nb-lee"]
    # n1-standard-8 0.379998 x 730 = 277.39854 + T4 0.35 x 730 = 255.5 -> 532.89854
    assert lee.monthly_cost_usd == pytest.approx(277.39854 + 255.5)
    assert lee.metrics["cpu_max_pct"] == 3.5 and lee.metrics["metric_days"] == 14
    assert lee.owner == "lee@acme.example" and lee.attributes["idle_shutdown"] is False
    assert lee.covers == (f"gcp:compute:{P}/{ZONE}/nb-lee",)
    assert obs["nb-cpu"].metrics["idle_timeout_minutes"] == 180.0
    found = _found(results["gcp.workbench"])
    assert set(found) == {"nb-lee"}  # nb-cpu has no GPU (min_gpus 1)
    assert found["nb-lee"].confidence == Confidence.MEDIUM
    assert found["nb-lee"].estimated_monthly_savings_usd == pytest.approx(532.90)
    assert estate.count("/locations/-/instances") == 1
    # the Workbench VM is not reported again by gcp.compute
    with serve(build_ai_estate()) as url:
        compute = GcpComputeScanner(_context(url)).scan()
    assert "nb-lee" not in {o.name for o in compute.observations}


def test_gpu_leftover_snapshots_and_images(scanned) -> None:
    estate, results = scanned
    obs = _by_name(results["gcp.images"])
    snap = obs["a100-trainer-final"]
    # 800 GiB stored x 0.065 (standard, US multi-region) = 52.00
    assert snap.monthly_cost_usd == pytest.approx(52.0)
    assert snap.attributes["source_exists"] is False and snap.attributes["gpu_origin"] == "GPU words: a100"
    # its source disk exists and serves a GPU VM: tied to GPU work, but not a leftover
    backup = obs["nb-lee-backup"]
    assert backup.attributes["source_exists"] is True
    assert backup.attributes["gpu_origin"] == f"source disk serves GPU VM {ZONE}/nb-lee"
    # 500 GiB archive in us-central1 x 0.019 = 9.50
    assert obs["old-h100-archive"].monthly_cost_usd == pytest.approx(9.5)
    # image: 60 GiB archive x 0.05 = 3.00
    assert obs["train-cu121-2026-06"].monthly_cost_usd == pytest.approx(3.0)
    found = _found(results["gcp.images"])
    assert set(found) == {"a100-trainer-final", "old-h100-archive", "train-cu121-2026-06"}
    assert found["a100-trainer-final"].severity == Severity.MEDIUM  # >= 50 a month
    assert found["old-h100-archive"].estimated_monthly_savings_usd == pytest.approx(9.5)
    assert estate.count("/global/snapshots") == 1 and estate.count("/global/images") == 1


def test_gpu_words_are_whole_tokens() -> None:
    assert gpu_words("train-cu121-2026", "pytorch-gpu") == ["cu121", "gpu"]
    assert gpu_words("html4-site", "fleet4") == []  # "l4"/"t4" only as whole tokens


def test_a_refused_project_is_one_failed_line_per_scanner() -> None:
    estate = build_ai_estate()
    with serve(estate) as url:
        ctx = _context(url, [P, "locked-proj"])
        for cls in SCANNERS:
            cov = {c.scope: c for c in cls(ctx).scan().coverage}
            assert cov[f"project {P}"].status == "ok", cls.name
            assert cov["project locked-proj"].status == "failed", cls.name
            assert "403" in cov["project locked-proj"].message


def test_monitoring_refused_makes_no_idle_claim() -> None:
    estate = build_ai_estate()
    estate.monitoring_denied.add(P)
    with serve(estate) as url:
        ctx = _context(url)
        results = [cls(ctx).scan() for cls in (VertexEndpointScanner, TpuNodeScanner, WorkbenchScanner)]
    for result in results:
        assert result.coverage[0].status == "partial"
        assert evaluate(load_rules(), result.observations) == []
    assert _by_name(results[0])["reranker"].metrics["predictions"] is None


def test_an_api_not_enabled_is_nothing_to_scan_not_a_failure() -> None:
    estate = build_ai_estate()
    estate.disabled[P] = {"aiplatform", "tpu", "notebooks"}
    with serve(estate) as url:
        ctx = _context(url)
        for cls, said in (
            (VertexEndpointScanner, "Vertex AI API not enabled"),
            (TpuNodeScanner, "Cloud TPU API not enabled"),
            (WorkbenchScanner, "Notebooks API not enabled"),
        ):
            result = cls(ctx).scan()
            assert result.observations == []
            assert result.coverage[0].status == "ok" and said in result.coverage[0].message
    assert estate.count("/endpoints") == 1  # the first region's answer settles it


def test_one_unreachable_vertex_region_is_partial_and_the_others_are_kept() -> None:
    from dataclasses import replace

    estate = build_ai_estate()
    estate.unreachable_regions.add("europe-west4")
    with serve(estate) as url:
        ctx = _context(url)
        # a retry budget of read timeout 0.5 s x 2 attempts: the 503s are retried, then given up
        ctx.options.limits = replace(ctx.options.limits, read_timeout=0.5, max_attempts=2)
        result = VertexEndpointScanner(ctx).scan()
    cov = result.coverage[0]
    assert cov.status == "partial" and "endpoints not listed in europe-west4" in cov.message
    assert "503" in cov.message and "retry budget" in cov.message
    assert estate.count("/locations/europe-west4/endpoints") >= 2  # retried
    assert {o.name for o in result.observations} == {"reranker", "churn"}


def test_vertex_locations_from_the_config_section() -> None:
    from aifinops_cli.scanners.gcp.provider import GcpProvider

    settings = GcpProvider.settings({}, {"projects": "a,b", "vertex_locations": "us-east4, asia-northeast1"})
    assert settings.vertex_locations == ["us-east4", "asia-northeast1"]
