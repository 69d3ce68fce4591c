"""Isolation for GKE: the clusters.list call and the Cloud Monitoring reads carry the scan's
timeouts (config `scan:`), so a project whose GKE or Monitoring endpoint hangs is that project's
coverage line, failed or partial, and the other project's idle GPU pool is reported with its
amount. Faults sit in front of the local GCP fake, on the wire; the CLI runs the real clients."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from aifinops_cli.demo.fakes import gcp as gcp_fake
from aifinops_cli.demo.fakes import server as fakeserver
from aifinops_cli.demo.fakes.gcp import FakeGcp, FakeProject, cluster_json, instance_json, node_pool_json
from tests.conftest import run_cli

OLD = datetime.now(UTC) - timedelta(days=60)
GOOD, BAD = "gke-good", "gke-bad"
HANG = 8.0  # seconds the faulty endpoint waits before answering normally: longer than the
# scan's read timeout (1 s), shorter than the clients' own defaults (20 s GKE, 60 s Monitoring)
# Hand-computed (catalog gcp.yaml, 730 h): one n1-standard-4 node 0.189999 x 730 = 138.69927
# + its T4 0.35 x 730 = 255.50, no container asked for a GPU all window: idle
IDLE_POOL = 0.189999 * 730 + 0.35 * 730


def _project(project: str, pool: str, n: int) -> FakeProject:
    labels = {"goog-gke-node": "", "goog-k8s-cluster-name": "train", "goog-k8s-node-pool-name": pool}
    proj = FakeProject()
    proj.instances["us-central1-a"] = [
        instance_json(
            project,
            f"gke-train-{pool}-0",
            "us-central1-a",
            "n1-standard-4",
            7000 + n,
            labels=labels,
            accelerators=[("nvidia-tesla-t4", 1)],
            created=OLD,
            started=OLD,
        )
    ]
    proj.clusters = [
        cluster_json(
            project,
            "train",
            "us-central1-a",
            [node_pool_json(pool, "n1-standard-4", accelerators=[("nvidia-tesla-t4", 1)])],
        )
    ]
    return proj


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """`mode["path"]`: the path fragment of BAD's requests that hang before being answered."""
    fake = FakeGcp(projects={GOOD: _project(GOOD, "t4-good", 1), BAD: _project(BAD, "t4-bad", 2)})
    answer = partial(gcp_fake._answer, fake)
    mode = {"path": ""}
    release = threading.Event()

    def hang_some(method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if mode["path"] and f"/projects/{BAD}/{mode['path']}" in path:
            release.wait(HANG)
        return answer(method, path, query)

    with fakeserver.serve(hang_some, "fake-gcp-gke-faulty") as url:
        monkeypatch.setenv("AIFINOPS_GCP_ENDPOINT", url)
        yield mode
        release.set()


def scan(runner, tmp_path) -> dict[str, Any]:
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  connect_timeout: 1\n  read_timeout: 1\n  max_attempts: 2\n")
    result = run_cli(
        runner,
        "--config",
        str(cfg),
        "scan",
        "-s",
        "gcp.gke",
        "--format",
        "json",
        "--gcp-project",
        GOOD,
        "--gcp-project",
        BAD,
    )
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_hanging_clusters_list_fails_only_its_project(faulty, runner, tmp_path):
    faulty["path"] = "locations/-/clusters"
    report = scan(runner, tmp_path)
    by_scope = {s["scope"]: s for s in report["coverage"]["scopes"]}
    assert by_scope[f"project {GOOD}"]["status"] == "ok"
    bad = by_scope[f"project {BAD}"]
    assert bad["status"] == "failed" and "read timed out" in bad["message"], bad
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx({"t4-good": round(IDLE_POOL, 2)})  # 138.70 + 255.50 = 394.20


def test_hanging_monitoring_is_partial_and_the_pool_still_listed(faulty, runner, tmp_path):
    faulty["path"] = "timeSeries"
    report = scan(runner, tmp_path)
    by_scope = {s["scope"]: s for s in report["coverage"]["scopes"]}
    assert by_scope[f"project {GOOD}"]["status"] == "ok"
    bad = by_scope[f"project {BAD}"]
    assert bad["status"] == "partial", bad
    assert "GPU requests not read: monitoring: read timed out" in bad["message"], bad
    # BAD's pool is seen but cannot be judged idle without the metric; GOOD's is
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx({"t4-good": round(IDLE_POOL, 2)})
    assert bad["resources"] == 1  # the pool was listed all the same
