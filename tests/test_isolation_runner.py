"""The scan deadline at the runner: a scanner still running at `--timeout` is one "timed out"
coverage line and is not waited for; the scanners that finished are reported.

The hanging scanner is the real Kubernetes scanner reading a loopback API server that accepts the
request and never answers (its own read timeout is two minutes); the finished one is the GCP
Compute scanner against the local GCP fake.
"""

from __future__ import annotations

import json
import threading
from functools import partial

import pytest

from aifinops_cli.scanners import fakeserver
from aifinops_cli.scanners.gcp import fake as gcp_fake
from aifinops_cli.scanners.k8s.fake import write_kubeconfig
from tests.conftest import run_cli
from tests.test_isolation_gcp import EXPECTED, GOOD, estate


def test_a_hanging_scanner_times_out_and_the_others_are_reported(runner, tmp_path, monkeypatch):
    release = threading.Event()
    answered = []

    def never(method: str, path: str, query: dict[str, list[str]]):
        release.wait(60)
        answered.append(path)
        return 503, {"kind": "Status", "status": "Failure", "code": 503}

    with fakeserver.serve(partial(gcp_fake._answer, estate()), "fake-gcp") as gcp_url, \
            fakeserver.serve(never, "fake-k8s-hanging") as k8s_url:
        monkeypatch.setenv("AIFINOPS_GCP_ENDPOINT", gcp_url)
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", k8s_url,
                                                              ["prod"])))
        args = ["scan", "-s", "gcp.compute", "-s", "k8s.gpu", "--kube-context", "prod",
                "--format", "json", "--timeout", "2"]
        for project in GOOD:
            args += ["--gcp-project", project]
        try:
            result = run_cli(runner, *args)
            assert answered == []  # the scan ended while the API server still held the request
        finally:
            release.set()
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    status = {(s["scanner"], s["scope"]): s for s in report["coverage"]["scopes"]}
    assert {k: s["status"] for k, s in status.items()} == {
        ("gcp.compute", "project good-a"): "ok", ("gcp.compute", "project good-b"): "ok",
        ("k8s.gpu", "*"): "failed"}
    assert status[("k8s.gpu", "*")]["message"].startswith(
        "timed out: not finished within the 2 s scan deadline")
    assert "k8s.gpu *: timed out" in result.stderr
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx(EXPECTED)  # 85.00 + 8.80, from the scanner that finished
