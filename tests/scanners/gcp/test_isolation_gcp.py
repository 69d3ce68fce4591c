"""Isolation on Google Cloud: one project that fails in any way is one coverage line; the other
projects' findings are reported. Faults sit in front of the local GCP fake (its answers for one
project replaced on the wire), and the real google-cloud clients read them through the CLI."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from aifinops_cli.demo.fakes import gcp as gcp_fake
from aifinops_cli.demo.fakes import server as fakeserver
from aifinops_cli.demo.fakes.gcp import FakeGcp, FakeProject, disk_json
from tests.conftest import run_cli

NOW = datetime.now(UTC)
GOOD = ["good-a", "good-b"]
BAD = "bad-proj"
# Hand-computed (catalog gcp.yaml): pd-ssd in us-central1 500 GB x 0.17 = 85.00;
# pd-standard in europe-west4 200 GB x 0.044 = 8.80
EXPECTED = {"orphan-a": 500 * 0.17, "orphan-b": 200 * 0.044}


def _orphan(project: str, name: str, zone: str, disk_type: str, size: int, n: int) -> FakeProject:
    disk = disk_json(
        project,
        name,
        zone,
        disk_type,
        size,
        1000 + n,
        created=NOW - timedelta(days=60),
        detached=NOW - timedelta(days=20),
    )
    return FakeProject(disks={zone: [disk]})


def estate() -> FakeGcp:
    return FakeGcp(
        projects={
            "good-a": _orphan("good-a", "orphan-a", "us-central1-a", "pd-ssd", 500, 1),
            "good-b": _orphan("good-b", "orphan-b", "europe-west4-a", "pd-standard", 200, 2),
            BAD: _orphan(BAD, "orphan-bad", "us-central1-a", "pd-ssd", 1000, 3),
        }
    )


# fault kind -> what the bad project's coverage line must say
KINDS = {
    "garbage": "unreadable answer from Google Cloud",
    "html500": "500",
    "denied": "access denied (403)",
    "hang": "read timed out",
}


@pytest.fixture
def faulty_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    fake = estate()
    answer = partial(gcp_fake._answer, fake)
    mode: dict[str, str] = {"kind": ""}
    release = threading.Event()

    def faulty(method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if f"/projects/{BAD}/" in path:
            if mode["kind"] == "denied":  # the fake's own 403 PERMISSION_DENIED for the project
                fake.denied.add(BAD)
            if mode["kind"] == "garbage":  # a captive portal answering in Google's place
                return 200, b"<html>Sign in to the guest network</html>\x00\xff"
            if mode["kind"] == "html500":
                return 500, b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            if mode["kind"] == "hang":
                release.wait(30)
        return answer(method, path, query)

    with fakeserver.serve(faulty, "fake-gcp-faulty") as url:
        monkeypatch.setenv("AIFINOPS_GCP_ENDPOINT", url)
        yield mode
        release.set()


@pytest.fixture
def short_timeouts(tmp_path):
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  connect_timeout: 1\n  read_timeout: 1\n  max_attempts: 2\n")
    return cfg


@pytest.mark.parametrize("kind", list(KINDS))
def test_one_faulty_project_is_a_coverage_line(faulty_fake, runner, short_timeouts, kind):
    faulty_fake["kind"] = kind
    args = ["--config", str(short_timeouts), "scan", "-s", "gcp.compute", "--format", "json"]
    for project in [*GOOD, BAD]:
        args += ["--gcp-project", project]
    result = run_cli(runner, *args)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    by_scope = {s["scope"]: s for s in report["coverage"]["scopes"]}
    assert {scope: s["status"] for scope, s in by_scope.items()} == {
        "project good-a": "ok",
        "project good-b": "ok",
        f"project {BAD}": "failed",
    }
    assert KINDS[kind] in by_scope[f"project {BAD}"]["message"], by_scope[f"project {BAD}"]
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx(EXPECTED)
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(85.00 + 8.80)
    assert f"gcp.compute project {BAD}:" in result.stderr


def test_scan_deadline_reports_the_hanging_project(faulty_fake, runner, tmp_path):
    # a read timeout far beyond the deadline: only the deadline ends the wait; the client is
    # imported first (it took 16 s at load average 15, all inside the deadline otherwise)
    importlib.import_module("google.cloud.compute_v1")
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  read_timeout: 120\n  max_attempts: 1\n")
    faulty_fake["kind"] = "hang"
    args = ["--config", str(cfg), "scan", "-s", "gcp.compute", "--format", "json", "--timeout", "4"]
    for project in [*GOOD, BAD]:
        args += ["--gcp-project", project]
    result = run_cli(runner, *args)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    bad = next(s for s in report["coverage"]["scopes"] if s["scope"] == f"project {BAD}")
    assert bad["status"] == "failed"
    assert bad["message"].startswith("timed out: not finished within the 4 s scan deadline")
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx(EXPECTED)  # 85.00 + 8.80 from the two good projects
