"""The GCP demo estate scans through the real clients and gives the same findings every run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.pipeline import run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import load_rules
from aifinops_cli.demo.gcp import demo_gcp
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.gke import GkeGpuNodePoolScanner
from aifinops_cli.scanners.gcp.images import GceImageSnapshotScanner
from aifinops_cli.scanners.gcp.tpu import TpuNodeScanner
from aifinops_cli.scanners.gcp.vertex import VertexEndpointScanner
from aifinops_cli.scanners.gcp.workbench import WorkbenchScanner

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_demo_gcp_findings() -> None:
    options = ScanOptions()
    with demo_gcp(options, NOW):
        ctx = ScanContext(options=options, config=Config(), prices=load_catalog(), now=NOW)
        scanners = [
            GcpComputeScanner,
            GkeGpuNodePoolScanner,
            VertexEndpointScanner,
            TpuNodeScanner,
            WorkbenchScanner,
            GceImageSnapshotScanner,
        ]
        outcome = run_scan(ctx, scanners, load_rules())
    assert not outcome.internal_errors
    savings = {
        (f.rule_id, f.observation.name): f.estimated_monthly_savings_usd for f in outcome.report.findings
    }
    assert savings == {
        ("gcp-compute-idle-gpu", "llm-eval-a100"): pytest.approx(2681.57),  # 3.673385 x 730
        ("gcp-compute-idle-gpu", "cv-train-t4"): pytest.approx(788.40),  # (0.379998 + 2 x 0.35) x 730
        ("gcp-compute-idle-gpu", "notebook-g2"): pytest.approx(542.33),  # 0.742916 x 730 (europe-west4)
        ("gcp-gke-idle-gpu-nodepool", "t4-pool"): pytest.approx(788.40),  # 2 x (0.189999 + 0.35) x 730
        ("gcp-disk-unattached", "llm-eval-scratch"): pytest.approx(170.0),  # 1000 GB x 0.17
        ("gcp-disk-unattached", "old-dataset"): pytest.approx(80.0),  # 2000 GB x 0.04
        ("gcp-disk-unattached", "research-ckpt"): pytest.approx(55.0),  # 500 GB x 0.11 (europe-west4)
        ("gcp-compute-stopped-gpu-storage", "batch-v100"): pytest.approx(150.0),  # 1500 GB x 0.10
        # 1 replica x g2-standard-8 with its L4 0.981668 x 730 = 716.61764 (the L4 is in the
        # whole-node Vertex rate, derived as Compute Engine 0.853624271 x 1.15, unverified)
        ("gcp-vertex-idle-endpoint", "support-reranker"): pytest.approx(716.62, abs=0.006),
        # 4 chips x 1.56 (v5litepod, europe-west4, skypilot-catalog v8) x 730 = 4,555.20
        ("gcp-tpu-idle", "research-v5e-sweep"): pytest.approx(4555.20),
        # (n1-standard-8 0.418336 + T4 0.3675) x 730 (europe-west4)
        ("gcp-workbench-idle", "research-nb-t4"): pytest.approx(573.66),
        # 1200 GB x 0.065 (standard snapshot, us multi-region, Cyclenerd pricing.yml) = 78.00
        ("gcp-gpu-image-snapshot-leftover", "batch-v100-final"): pytest.approx(78.0),
        # 80 GB x 0.05 (custom image, us multi-region, unverified) = 4.00
        ("gcp-gpu-image-snapshot-leftover", "train-cuda-cu121-2026-05"): pytest.approx(4.0),
    }
    assert {c.status for c in outcome.report.coverage} == {"ok"}
