"""The scan deadline: work still running at `--timeout` is one "timed out" coverage line and is
not waited for; what finished is reported.

The hanging work is the real Kubernetes scanner reading a loopback API server that accepts the
request and never answers (the default read timeout, 60 s, is past the deadline): its context is
the timed-out scope. The finished one is the GCP Compute scanner against the local GCP fake.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from functools import partial

import pytest

from aifinops_cli.core.fanout import fan_out
from aifinops_cli.core.plugin import Limits
from aifinops_cli.demo.fakes import gcp as gcp_fake
from aifinops_cli.demo.fakes import server as fakeserver
from aifinops_cli.demo.fakes.k8s import write_kubeconfig
from tests.conftest import run_cli
from tests.scanners.gcp.test_isolation_gcp import EXPECTED, GOOD, estate


def test_a_hanging_scanner_times_out_and_the_others_are_reported(runner, tmp_path, monkeypatch):
    # the clients imported before the deadline starts: importing google.cloud.compute_v1 took 16 s
    # at load average 15, inside the deadline, and the good projects then timed out too
    for module in ("google.cloud.compute_v1", "kubernetes.client"):
        importlib.import_module(module)
    release = threading.Event()
    answered = []

    def never(method: str, path: str, query: dict[str, list[str]]):
        release.wait(60)
        answered.append(path)
        return 503, {"kind": "Status", "status": "Failure", "code": 503}

    with (
        fakeserver.serve(partial(gcp_fake._answer, estate()), "fake-gcp") as gcp_url,
        fakeserver.serve(never, "fake-k8s-hanging") as k8s_url,
    ):
        monkeypatch.setenv("AIFINOPS_GCP_ENDPOINT", gcp_url)
        monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", k8s_url, ["prod"])))
        args = [
            "scan",
            "-s",
            "gcp.compute",
            "-s",
            "k8s.gpu",
            "--kube-context",
            "prod",
            "--format",
            "json",
            "--timeout",
            "4",
        ]
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
        ("gcp.compute", "project good-a"): "ok",
        ("gcp.compute", "project good-b"): "ok",
        ("k8s.gpu", "context prod"): "failed",
    }
    assert status[("k8s.gpu", "context prod")]["message"].startswith(
        "timed out: not finished within the 4 s scan deadline"
    )
    assert "k8s.gpu context prod: timed out" in result.stderr
    got = {f["resource_name"]: f["monthly_cost_usd"] for f in report["findings"]}
    assert got == pytest.approx(EXPECTED)  # 85.00 + 8.80, from the scanner that finished


def test_fan_out_keeps_order_errors_and_abandons_what_runs_past_the_deadline():
    gate = threading.Event()
    started: list[str] = []

    def work(scope: str) -> int:
        started.append(scope)
        if scope == "hangs":
            gate.wait(30)
        if scope == "breaks":
            raise KeyError("no such field")
        return len(scope)

    try:
        # one worker: "never" is queued behind the hanging scope and must never start
        done = fan_out(
            ["ok", "breaks", "hangs", "never"], work, workers=1, deadline=time.monotonic() + 0.5, name="t"
        )
    finally:
        gate.set()
    assert [d.scope for d in done] == ["ok", "breaks", "hangs", "never"]
    assert (done[0].value, done[0].error, done[0].timed_out) == (2, None, False)
    assert isinstance(done[1].error, KeyError) and not done[1].timed_out
    assert done[2].timed_out and done[3].timed_out
    time.sleep(0.2)  # the released worker finds "never" cancelled
    assert "never" not in started


def test_limits_from_settings():
    assert Limits.from_settings({}) == Limits(900.0, 10.0, 60.0, 4)
    assert Limits.from_settings({"timeout": 0}).scan_timeout is None  # 0: no deadline
    assert Limits.from_settings({"timeout": 60}, timeout=5).scan_timeout == 5.0  # the flag wins
    limits = Limits.from_settings({"connect_timeout": 2, "read_timeout": 7.5, "max_attempts": 1})
    assert (limits.connect_timeout, limits.read_timeout, limits.max_attempts) == (2.0, 7.5, 1)
    for bad in (
        {"timeout": True},
        {"timeout": float("inf")},
        {"read_timeout": -1},
        {"max_attempts": 2.5},
        {"connect_timeout": "10"},
    ):
        with pytest.raises(ValueError):
            Limits.from_settings(bad)
