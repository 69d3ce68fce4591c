"""The Kubernetes demo estate (an EKS-like cluster and an on-prem DGX cluster) scans through the
real client, kubeconfig and Prometheus API, and gives the same findings every run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.pipeline import run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import load_rules
from aifinops_cli.demo.k8s import demo_k8s
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_demo_k8s_findings() -> None:
    options = ScanOptions()
    with demo_k8s(options, NOW):
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
        outcome = run_scan(ctx, [KubernetesGpuScanner], load_rules())
    assert not outcome.internal_errors
    savings = {
        (f.rule_id, f.observation.name): f.estimated_monthly_savings_usd for f in outcome.report.findings
    }
    assert savings == {
        # g5.12xlarge 5.672/h x 730 = 4140.56, all 4 GPUs unrequested
        ("k8s-gpu-node-unrequested", "ip-10-1-0-11.ec2.internal"): pytest.approx(4140.56),
        # 1 of its 4 GPUs: 5.672 / 4 x 730 = 1035.14
        ("k8s-pod-gpu-unused", "reranker-6f7c9-x2x8q"): pytest.approx(1035.14),
        ("k8s-finished-job-holding-gpu", "eval-run-42-7kq2m"): pytest.approx(1035.14),
        # on-prem, node label rate 1.60 per GPU-hour: 8 x 1.60 x 730 = 9344.0
        ("k8s-gpu-node-unrequested", "dgx-03"): pytest.approx(9344.0),
        # 6 of dgx-01's 8 GPUs unrequested: 9344.0 x 6 / 8 = 7008.0
        ("k8s-gpu-node-stranded", "dgx-01"): pytest.approx(7008.0),
        # the notebook's 2 GPUs: 2 x 1.60 x 730 = 2336.0
        ("k8s-notebook-idle-gpu", "jupyter-kim-0"): pytest.approx(2336.0),
        # p4d.24xlarge whose DCGM engine activity (6%) and memory (7 GB a GPU, 56 GB) fit a
        # g6.12xlarge: (21.957642 - 4.6016) x 730 = 12669.91
        ("gpu-rightsize", "ip-10-1-2-40.ec2.internal"): pytest.approx(12669.91066),
        # the MIG box: one A100 at 1.60/h cut in 7 x 1g.10gb, 3 requested: 1.60 x 730 x 4/7 = 667.43
        ("k8s-gpu-node-stranded", "mig-01"): pytest.approx(667.43),
        # embed-2's engine activity peaked at 0.4%: its slice, 1.60 x 1/7 x 730 = 166.86
        ("k8s-pod-gpu-unused", "embed-2"): pytest.approx(166.86),
    }
    assert {c.scope: c.status for c in outcome.report.coverage} == {
        "context eks-ml": "ok",
        "context onprem-dgx": "ok",
    }
