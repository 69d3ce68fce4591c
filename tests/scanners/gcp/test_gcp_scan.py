"""GCP scanners against a local server answering the real Compute, Monitoring, GKE and Resource
Manager REST shapes, through the real google-cloud clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Confidence
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.demo.fakes.gcp import (
    FakeGcp,
    FakeProject,
    cluster_json,
    disk_json,
    instance_json,
    node_pool_json,
    series_json,
    serve,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.gke import GkeGpuNodePoolScanner
from aifinops_cli.scanners.gcp.monitoring import CPU_METRIC, GKE_REQUEST_METRIC, GPU_METRIC
from aifinops_cli.scanners.gcp.provider import GcpSettings

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
END = NOW.replace(minute=0)
OLD = NOW - timedelta(days=60)
P = "ml-prod"


def _cpu(iid: str, name: str, zone: str, means: float, maxes: float, days: int = 14) -> tuple[dict, dict]:
    labels = {"instance_id": iid, "zone": zone, "project_id": P}
    return (
        series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", labels, [means] * days, END),
        series_json(CPU_METRIC, {"instance_name": name}, "gce_instance", labels, [maxes] * days, END),
    )


def _gpu(iid: str, zone: str, means: float, maxes: float, gpu: str = "0") -> tuple[dict, dict]:
    labels = {"instance_id": iid, "zone": zone, "project_id": P}
    ml = {"gpu_number": gpu, "model": "NVIDIA A100-SXM4-40GB", "uuid": f"GPU-{iid}-{gpu}"}
    return (
        series_json(GPU_METRIC, ml, "gce_instance", labels, [means] * 14, END),
        series_json(GPU_METRIC, ml, "gce_instance", labels, [maxes] * 14, END),
    )


def build_estate() -> FakeGcp:
    zone = "us-central1-a"
    ps = FakeProject(zones=("us-east1-b", "europe-west4-a"))
    ps.instances[zone] = [
        instance_json(
            P,
            "idle-t4",
            zone,
            "n1-standard-8",
            101,
            accelerators=[("nvidia-tesla-t4", 1)],
            labels={"team": "vision"},
            created=OLD,
            started=OLD,
        ),
        instance_json(
            P,
            "idle-a2",
            zone,
            "a2-highgpu-1g",
            102,
            accelerators=[("nvidia-tesla-a100", 1)],
            labels={"owner": "llm"},
            created=OLD,
            started=OLD,
        ),
        instance_json(P, "busy-g2", zone, "g2-standard-8", 103, created=OLD, started=OLD, spot=True),
        instance_json(P, "web-1", zone, "e2-standard-4", 104, created=OLD, started=OLD),
        instance_json(
            P,
            "stopped-v100",
            zone,
            "n1-standard-8",
            105,
            status="TERMINATED",
            accelerators=[("nvidia-tesla-v100", 1)],
            created=OLD,
            stopped=NOW - timedelta(days=30),
        ),
        instance_json(
            P,
            "new-t4",
            zone,
            "n1-standard-4",
            106,
            accelerators=[("nvidia-tesla-t4", 1)],
            created=NOW - timedelta(days=1),
            started=NOW - timedelta(days=1),
        ),
        # GKE nodes: two in the idle T4 pool, one in the busy pool
        *[
            instance_json(
                P,
                f"gke-train-gpu-t4-{n}",
                zone,
                "n1-standard-4",
                200 + n,
                accelerators=[("nvidia-tesla-t4", 1)],
                created=OLD,
                started=OLD,
                # the second node lacks the goog-k8s labels: found through its instance group
                labels={
                    "goog-gke-node": "",
                    "goog-k8s-cluster-name": "train",
                    "goog-k8s-node-pool-name": "gpu-t4",
                }
                if n == 0
                else {"goog-gke-node": ""},
                created_by="" if n == 0 else "gke-train-gpu-t4-grp",
            )
            for n in range(2)
        ],
        instance_json(
            P,
            "gke-train-gpu-busy-0",
            zone,
            "g2-standard-8",
            210,
            created=OLD,
            started=OLD,
            labels={
                "goog-gke-node": "",
                "goog-k8s-cluster-name": "train",
                "goog-k8s-node-pool-name": "gpu-busy",
            },
        ),
    ]
    ps.disks[zone] = [
        disk_json(P, "stopped-v100", zone, "pd-ssd", 300, 304, users=["stopped-v100"], created=OLD),
        disk_json(
            P,
            "orphan-data",
            zone,
            "pd-ssd",
            500,
            301,
            created=OLD,
            labels={"team": "vision"},
            attached=OLD,
            detached=NOW - timedelta(days=20),
        ),
        disk_json(P, "idle-t4", zone, "pd-balanced", 100, 302, users=["idle-t4"], created=OLD),
    ]
    ps.disks["europe-west4-a"] = [
        disk_json(P, "orphan-std", "europe-west4-a", "pd-standard", 200, 303, created=OLD),
    ]
    ps.zones = ("us-east1-b",)
    series = ps.series
    for iid, name, mean, mx in (
        ("101", "idle-t4", 0.01, 0.03),
        ("102", "idle-a2", 0.02, 0.04),
        ("103", "busy-g2", 0.6, 0.95),
        ("106", "new-t4", 0.01, 0.02),
    ):
        days = 1 if name == "new-t4" else 14
        a, b = _cpu(iid, name, zone, mean, mx, days)
        series.setdefault((CPU_METRIC, "ALIGN_MEAN"), []).append(a)
        series.setdefault((CPU_METRIC, "ALIGN_MAX"), []).append(b)
    for iid, mean, mx in (("102", 0.5, 1.0), ("103", 80.0, 99.0)):
        a, b = _gpu(iid, zone, mean, mx)
        series.setdefault((GPU_METRIC, "ALIGN_MEAN"), []).append(a)
        series.setdefault((GPU_METRIC, "ALIGN_MAX"), []).append(b)
    series[(GKE_REQUEST_METRIC, "ALIGN_MAX")] = [
        series_json(
            GKE_REQUEST_METRIC,
            {},
            "k8s_container",
            {"cluster_name": "train", "project_id": P},
            [1] * 14,
            END,
            int_values=True,
            system_labels={"node_name": "gke-train-gpu-busy-0"},
        ),
    ]
    ps.clusters = [
        cluster_json(
            P,
            "train",
            "us-central1",
            [
                node_pool_json("default-pool", "e2-standard-4", node_count=3),
                node_pool_json(
                    "gpu-t4",
                    "n1-standard-4",
                    accelerators=[("nvidia-tesla-t4", 1)],
                    autoscaling=(2, 4),
                    node_count=2,
                    groups=["us-central1-a/gke-train-gpu-t4-grp"],
                ),
                node_pool_json("gpu-busy", "g2-standard-8", accelerators=[("nvidia-l4", 1)]),
            ],
            labels={"team": "training"},
        )
    ]
    return FakeGcp(projects={P: ps}, denied={"locked-proj"}, page_size=3)


@pytest.fixture
def fake() -> Iterator[tuple[FakeGcp, str]]:
    estate = build_estate()
    with serve(estate) as url:
        yield estate, url


def _context(url: str, projects: list[str] | None = None) -> ScanContext:
    options = ScanOptions(
        providers=["gcp"],
        lookback_days=14,
        settings={"gcp": GcpSettings(projects=projects or [], endpoints={"": url})},
    )
    return ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)


def _findings(result):
    rules = load_rules()
    return {f.observation.name: f for f in evaluate(rules, result.observations)}


def test_gpu_instances_and_disks(fake: tuple[FakeGcp, str]) -> None:
    estate, url = fake
    result = GcpComputeScanner(_context(url, [P, "locked-proj"])).scan()
    by_name = {o.name: o for o in result.observations}
    # GPU instances only (not web-1), GKE nodes left to gcp.gke; two unattached disks
    assert set(by_name) == {
        "idle-t4",
        "idle-a2",
        "busy-g2",
        "stopped-v100",
        "new-t4",
        "orphan-data",
        "orphan-std",
    }
    t4 = by_name["idle-t4"]
    # n1-standard-8 0.379998/h x 730 h = 277.39854; 1 x T4 0.35/GPU-h x 730 = 255.5
    # plus its boot disk, pd-balanced 100 GB x 0.10 = 10.0 (billed whether it runs or not)
    assert t4.monthly_cost_usd == pytest.approx(277.39854 + 255.5 + 10.0)
    assert t4.metrics["compute_monthly_usd"] == pytest.approx(277.39854 + 255.5)
    assert t4.metrics["cpu_avg_pct"] == 1.0 and t4.metrics["cpu_max_pct"] == 3.0
    assert t4.metrics["metric_days"] == 14 and t4.metrics["gpu_util_max_pct"] is None
    a2 = by_name["idle-a2"]
    # a2-highgpu-1g 3.673385/h x 730 = 2681.57105 (the A100 is in the machine price, no GPU line)
    assert a2.monthly_cost_usd == pytest.approx(2681.57105)
    assert len(a2.cost_lines) == 1
    assert a2.metrics["gpu_util_avg_pct"] == 0.5 and a2.metrics["gpu_util_max_pct"] == 1.0
    assert by_name["busy-g2"].metrics["gpu_count"] == 1
    # a Spot VM: priced at its Spot SKU, g2-standard-8 Spot 0.479872/h x 730 h = 350.30656
    # (on demand it would be 0.853624271 x 730 = 623.14571783); the fake gives it no disk
    assert by_name["busy-g2"].attributes["provisioning_model"] == "SPOT"
    assert by_name["busy-g2"].monthly_cost_usd == pytest.approx(350.30656)
    assert by_name["busy-g2"].cost_lines[0].sku == "gcp.compute.spot:g2-standard-8:us-central1"
    assert any("Spot SKUs" in e for e in by_name["busy-g2"].evidence)
    assert not any("Spot" in e for e in t4.evidence)
    # stopped: only its disk bills, pd-ssd 300 GB x 0.17 = 51.0
    assert by_name["stopped-v100"].monthly_cost_usd == pytest.approx(51.0)
    assert by_name["stopped-v100"].metrics["stopped_days"] == 30.0
    # pd-ssd 500 GB x 0.17 = 85.0 (us-central1); pd-standard 200 GB x 0.044 = 8.8 (europe-west4)
    assert by_name["orphan-data"].monthly_cost_usd == pytest.approx(85.0)
    assert by_name["orphan-data"].metrics["unattached_days"] == 20.0
    assert by_name["orphan-std"].monthly_cost_usd == pytest.approx(8.8)

    found = _findings(result)
    assert set(found) == {"idle-t4", "idle-a2", "orphan-data", "orphan-std", "stopped-v100"}
    assert found["stopped-v100"].rule_id == "gcp-compute-stopped-gpu-storage"
    assert found["stopped-v100"].estimated_monthly_savings_usd == pytest.approx(51.0)
    assert found["idle-t4"].confidence == Confidence.MEDIUM  # CPU only
    assert found["idle-a2"].confidence == Confidence.HIGH  # Ops Agent GPU metric too
    assert found["idle-a2"].estimated_monthly_savings_usd == pytest.approx(2681.57)
    assert found["idle-t4"].estimated_monthly_savings_usd == pytest.approx(532.90)

    cov = {c.scope: c for c in result.coverage}
    assert cov[f"project {P}"].status == "ok"
    assert cov["project locked-proj"].status == "failed"
    assert "403" in cov["project locked-proj"].message and "gcp-roles" in cov["project locked-proj"].message
    # paging followed (page size 3), only reads, monitoring batched: 5 queries for 4 running GPU VMs
    assert all(method == "GET" for method, _, _ in estate.calls)
    # 5 queries (CPU mean/max, GPU mean/max, GPU memory max); each CPU one has 4 series, paged
    # 3 + 1 -> 2 calls
    assert estate.count("/timeSeries") == 2 + 2 + 1 + 1 + 1


def test_projects_from_resource_manager(fake: tuple[FakeGcp, str]) -> None:
    estate, url = fake
    result = GcpComputeScanner(_context(url)).scan()
    scopes = {c.scope: c.status for c in result.coverage}
    assert scopes == {f"project {P}": "ok", "project locked-proj": "failed"}
    assert estate.count("/v3/projects:search") == 1


def test_monitoring_refused_is_partial(fake: tuple[FakeGcp, str]) -> None:
    estate, url = fake
    estate.monitoring_denied.add(P)
    result = GcpComputeScanner(_context(url, [P])).scan()
    cov = result.coverage[0]
    assert cov.status == "partial" and "utilisation not read" in cov.message
    found = _findings(result)
    # disks and the stopped instance still judged; no idle claim without utilisation data
    assert set(found) == {"orphan-data", "orphan-std", "stopped-v100"}


def test_gke_gpu_node_pools(fake: tuple[FakeGcp, str]) -> None:
    estate, url = fake
    result = GkeGpuNodePoolScanner(_context(url, [P])).scan()
    pools = {o.id: o for o in result.observations}
    assert set(pools) == {"train/gpu-t4", "train/gpu-busy"}
    idle = pools["train/gpu-t4"]
    assert idle.metrics["node_count"] == 2 and idle.metrics["gpu_requests_max"] == 0
    # 2 nodes x (n1-standard-4 0.189999 x 730 = 138.69927 + T4 0.35 x 730 = 255.5) = 788.39854
    assert idle.monthly_cost_usd == pytest.approx(2 * (138.69927 + 255.5))
    assert pools["train/gpu-busy"].metrics["gpu_requests_max"] == 1
    found = _findings(result)
    assert set(found) == {"gpu-t4"}
    assert found["gpu-t4"].estimated_monthly_savings_usd == pytest.approx(788.40)
    assert estate.count("/timeSeries") == 2


def test_monitoring_batches_many_instances() -> None:
    """250 running GPU VMs: instance ids go 100 to a query, 4 metrics each -> 3 x 4 = 12 calls."""
    zone = "us-central1-b"
    proj = FakeProject()
    proj.instances[zone] = [
        instance_json(
            P,
            f"t4-{n}",
            zone,
            "n1-standard-4",
            1000 + n,
            accelerators=[("nvidia-tesla-t4", 1)],
            created=OLD,
            started=OLD,
        )
        for n in range(250)
    ]
    for n in range(250):
        a, b = _cpu(str(1000 + n), f"t4-{n}", zone, 0.01, 0.02)
        proj.series.setdefault((CPU_METRIC, "ALIGN_MEAN"), []).append(a)
        proj.series.setdefault((CPU_METRIC, "ALIGN_MAX"), []).append(b)
    estate = FakeGcp(projects={P: proj}, page_size=1000)
    with serve(estate) as url:
        result = GcpComputeScanner(_context(url, [P])).scan()
    assert estate.count("/timeSeries") == 15  # 3 chunks of 100 ids x 5 queries
    assert len(_findings(result)) == 250


def test_no_credentials_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from aifinops_cli.core.plugin import ScannerError

    monkeypatch.delenv("AIFINOPS_GCP_ENDPOINT", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    options = ScanOptions(providers=["gcp"], settings={"gcp": GcpSettings(projects=[P])})
    ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
    with pytest.raises(ScannerError, match="application-default login"):
        GcpComputeScanner(ctx).scan()


def _zonal_estate(unreachable: tuple[str, ...]) -> FakeGcp:
    """A regional cluster with an idle T4 pool in us-central1-a and an idle Spot G2 pool whose
    nodes all run in us-central1-b; `unreachable` zones answer Compute's aggregated list with an
    UNREACHABLE warning instead of their instances."""

    def labels(pool: str) -> dict[str, str]:
        return {"goog-gke-node": "", "goog-k8s-cluster-name": "zonal", "goog-k8s-node-pool-name": pool}

    proj = FakeProject(unreachable=unreachable)
    proj.instances["us-central1-a"] = [
        instance_json(
            P,
            "gke-zonal-t4-0",
            "us-central1-a",
            "n1-standard-4",
            9001,
            labels=labels("t4"),
            accelerators=[("nvidia-tesla-t4", 1)],
            created=OLD,
            started=OLD,
        )
    ]
    proj.instances["us-central1-b"] = [
        instance_json(
            P,
            f"gke-zonal-g2-{n}",
            "us-central1-b",
            "g2-standard-8",
            9100 + n,
            labels=labels("spot-g2"),
            created=OLD,
            started=OLD,
            spot=True,
        )
        for n in range(4)
    ]
    proj.clusters = [
        cluster_json(
            P,
            "zonal",
            "us-central1",
            [
                node_pool_json(
                    "t4", "n1-standard-4", accelerators=[("nvidia-tesla-t4", 1)], locations=["us-central1-a"]
                ),
                node_pool_json(
                    "spot-g2",
                    "g2-standard-8",
                    accelerators=[("nvidia-l4", 1)],
                    node_count=4,
                    locations=["us-central1-b"],
                    spot=True,
                ),
            ],
            locations=["us-central1-a", "us-central1-b", "us-central1-c"],
        )
    ]
    return FakeGcp(projects={P: proj})


def test_gke_pool_in_an_unreachable_zone_is_partial_coverage() -> None:
    # reachable: both pools are seen with their nodes
    with serve(_zonal_estate(())) as url:
        result = GkeGpuNodePoolScanner(_context(url, [P])).scan()
    pools = {o.id: o for o in result.observations}
    assert pools["zonal/spot-g2"].metrics["node_count"] == 4
    assert result.coverage[0].status == "ok"
    assert {f.observation.name for f in evaluate(load_rules(), result.observations)} == {"t4", "spot-g2"}

    # us-central1-b unreachable: the G2 pool's nodes are not listed; the scan says so by name
    with serve(_zonal_estate(("us-central1-b",))) as url:
        result = GkeGpuNodePoolScanner(_context(url, [P])).scan()
    cov = result.coverage[0]
    assert cov.status == "partial"
    assert "node pool zonal/spot-g2: instances in us-central1-b (UNREACHABLE) not listed" in cov.message
    assert "zonal/t4" not in cov.message  # the T4 pool runs in a zone that answered
    pools = {o.id: o for o in result.observations}
    g2 = pools["zonal/spot-g2"]
    assert g2.metrics["node_count"] == 0 and g2.attributes["zones_not_listed"] == ["us-central1-b"]
    assert any("us-central1-b not listed" in e for e in g2.evidence)
    t4 = pools["zonal/t4"]
    # the T4 pool is unaffected: n1-standard-4 0.189999 x 730 = 138.69927 + T4 0.35 x 730 = 255.5
    assert t4.attributes["zones_not_listed"] == []
    assert t4.monthly_cost_usd == pytest.approx(138.69927 + 255.5)


def test_gke_missing_zones_of_clusters_list_are_partial() -> None:
    estate = _zonal_estate(())
    estate.projects[P].gke_missing_zones = ("us-central1-f",)
    with serve(estate) as url:
        cov = GkeGpuNodePoolScanner(_context(url, [P])).scan().coverage[0]
    assert cov.status == "partial" and "zones not answering: us-central1-f" in cov.message
