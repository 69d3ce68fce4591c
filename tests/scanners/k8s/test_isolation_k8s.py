"""Isolation for Kubernetes: every kube context is a scope of its own. A cluster whose API server
hangs or answers something that is not Kubernetes JSON is one coverage line naming the context;
the other context's findings are reported with their amounts. Requests take the scan's timeouts
(config `scan:`), and at the scan deadline (`--timeout`) the hanging context alone is reported
timed out. Faults are put in front of the local Kubernetes fake (demo/fakes/k8s.py)."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from aifinops_cli.demo.fakes import k8s as k8s_fake
from aifinops_cli.demo.fakes import server as fakeserver
from aifinops_cli.demo.fakes.k8s import FakeCluster, FakeK8s, node_json, write_kubeconfig
from tests.conftest import run_cli

AWS = {
    "node.kubernetes.io/instance-type": "g5.12xlarge",
    "topology.kubernetes.io/region": "us-east-1",
    "eks.amazonaws.com/nodegroup": "gpu-a10g",
}
# Hand-computed: an idle g5.12xlarge node (4 GPUs, no GPU pod), us-east-1 on-demand
# 5.672 $/h x 730 h = 4,140.56 a month
IDLE_NODE = 5.672 * 730


@pytest.fixture
def faulty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Clusters `good` and `bad`, one idle GPU node each; `mode` decides how `bad` answers."""
    created = datetime.now(UTC) - timedelta(days=10)
    fake = FakeK8s(
        clusters={
            name: FakeCluster(
                nodes=[
                    node_json(
                        f"{name}-g5",
                        gpus=4,
                        labels=AWS,
                        created=created,
                        provider_id=f"aws:///us-east-1a/i-0{n}",
                    )
                ]
            )
            for n, name in enumerate(("good", "bad"))
        }
    )
    answer = partial(k8s_fake._answer, fake)
    mode: dict[str, Any] = {"kind": "", "hang": 8.0}
    release = threading.Event()

    def faulty_answer(method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path.startswith("/bad-prometheus/"):  # the bad context's own Prometheus, slow
            release.wait(mode["hang"])
            path = path.replace("/bad-prometheus/", "/prometheus/", 1)
        if path.startswith("/clusters/bad/"):
            if mode["kind"] == "garbage":  # a captive portal answering in the API server's place
                return 200, b"<html>Sign in to the guest network</html>\x00\xff"
            if mode["kind"] == "not-a-list":  # JSON, but no Kubernetes list
                return 200, b'["hello"]'
            if mode["kind"] == "hang":  # then the real answer, if anybody still waits
                release.wait(mode["hang"])
        return answer(method, path, query)

    with fakeserver.serve(faulty_answer, "fake-k8s-faulty", keep_alive=True) as url:
        mode["url"] = url
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", url, ["good", "bad"])))
        yield mode
        release.set()


def scan(runner, tmp_path: Path, scan_yaml: str, *extra: str) -> dict[str, Any]:
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text(scan_yaml)
    result = run_cli(
        runner,
        "--config",
        str(cfg),
        "scan",
        "-s",
        "k8s.gpu",
        "--kube-context",
        "good",
        "--kube-context",
        "bad",
        "--format",
        "json",
        *extra,
    )
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def check(report: dict[str, Any], says: str) -> None:
    by_scope = {s["scope"]: s for s in report["coverage"]["scopes"]}
    assert set(by_scope) == {"context good", "context bad"}, by_scope
    assert by_scope["context good"]["status"] == "ok"
    bad = by_scope["context bad"]
    assert bad["status"] == "failed" and says in bad["message"], bad
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx({"good-g5": round(IDLE_NODE, 2)})  # 4,140.56


SHORT = "scan:\n  connect_timeout: 1\n  read_timeout: 1\n  max_attempts: 2\n"


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("garbage", "bad: unreadable answer from the API server"),
        ("not-a-list", "bad: unreadable answer from the API server"),
        # 8 s is within the client's old fixed 120 s read timeout, beyond the scan's 1 s
        ("hang", "bad: read timed out"),
    ],
)
def test_one_faulty_cluster_is_its_context_line(faulty, runner, tmp_path, kind, says):
    faulty["kind"] = kind
    check(scan(runner, tmp_path, SHORT), says)


def test_scan_deadline_reports_the_hanging_context_not_the_scanner(faulty, runner, tmp_path):
    # a read timeout far beyond the deadline: only the deadline ends the wait; the client is
    # imported first, so the deadline is spent on the requests, not on the import
    importlib.import_module("kubernetes.client")
    faulty.update(kind="hang", hang=60.0)
    report = scan(runner, tmp_path, "scan:\n  read_timeout: 120\n  max_attempts: 1\n", "--timeout", "3")
    check(report, "timed out: not finished within the 3 s scan deadline")


def test_hanging_prometheus_of_one_context_is_partial(faulty, runner, tmp_path):
    # the bad context's API server answers; its Prometheus takes 8 s, within the old fixed 60 s
    prom = {"good": f"{faulty['url']}/prometheus", "bad": f"{faulty['url']}/bad-prometheus"}
    report = scan(
        runner,
        tmp_path,
        SHORT
        + "kubernetes:\n  prometheus_urls:\n"
        + "".join(f"    {name}: {url}\n" for name, url in prom.items()),
    )
    by_scope = {s["scope"]: s for s in report["coverage"]["scopes"]}
    assert by_scope["context good"]["status"] == "ok", by_scope
    bad = by_scope["context bad"]
    assert bad["status"] == "partial" and "GPU utilisation not read" in bad["message"], bad
    assert "Read timed out" in bad["message"], bad
    # both nodes are idle by the API snapshot; each priced 5.672 x 730 = 4,140.56
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx({"good-g5": round(IDLE_NODE, 2), "bad-g5": round(IDLE_NODE, 2)})
