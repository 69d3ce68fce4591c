"""GPU right-sizing: the pure pick against the bundled catalog (amounts by hand), MIG shares, and
EC2 end to end with the CloudWatch agent's GPU memory metrics in moto, through the real CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifinops_cli.demo.aws import DemoInstance, seed_region
from aifinops_cli.pricing import gpu_fit
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.pricing.gpu_fit import GpuNeed, candidates, instance_gpus, mig_share, pick_rightsize
from tests.conftest import run_json

# bundled AWS on-demand catalog (2026-11-01), us-east-1, $/h
P4D, G6_12X, G5_X, G4DN_X, G6_X = 21.957642, 4.6016, 1.006, 0.526, 0.8048


def _aws(need: GpuNeed, itype: str, hourly: float, **kw):
    options = candidates(load_catalog(), "aws", "us-east-1")
    return pick_rightsize(need, instance_gpus("aws", itype), hourly, options, **kw)


def test_p4d_whose_peaks_fit_four_l4_moves_to_g6_12xlarge() -> None:
    # 9 GB on the busiest GPU, 18 GB in all, 12% peak activity. Needs 9 x 1.2 = 10.8 GB a GPU,
    # 21.6 GB in all, 8 x 312 x 0.12 x 1.2 = 359.42 TFLOPS. One L4 (121), one A10G (70), one T4
    # (65), 4 x T4 (260) and 4 x A10G (280) are too slow; 4 x L4 = 484 fits at 4.6016 $/h.
    pick = _aws(GpuNeed(9.0, 18.0, 12.0), "p4d.24xlarge", P4D)
    assert pick is not None and pick.target.gpus.instance_type == "g6.12xlarge"
    assert pick.target.hourly_usd == G6_12X and pick.target.price_date == "2026-11-01"
    assert pick.monthly_savings_usd == pytest.approx((21.957642 - 4.6016) * 730)  # 12,669.91
    assert "= 12,669.91 $/month" in pick.basis()
    # with a 10% discount on EC2 both prices are 10% lower: 12,669.91066 x 0.9 = 11,402.92
    discounted = _aws(GpuNeed(9.0, 18.0, 12.0), "p4d.24xlarge", P4D, discount_pct=10.0)
    assert discounted is not None and discounted.monthly_savings_usd == pytest.approx(12669.91066 * 0.9)


def test_light_work_goes_to_the_cheapest_single_gpu_that_fits() -> None:
    # 5 GB and 2% of a p4d: 6 GB and 8 x 312 x 0.02 x 1.2 = 59.9 TFLOPS: one T4 (16 GB, 65) fits
    # at 0.526; saving (21.957642 - 0.526) x 730 = 15,645.10866
    pick = _aws(GpuNeed(5.0, 5.0, 2.0), "p4d.24xlarge", P4D)
    assert pick is not None and pick.target.gpus.instance_type == "g4dn.xlarge"
    assert pick.monthly_savings_usd == pytest.approx((P4D - G4DN_X) * 730)
    # at 3%: 89.9 TFLOPS, beyond a T4 (65), an A10G (70) and within an L4 (121): g6.xlarge 0.8048
    pick = _aws(GpuNeed(5.0, 5.0, 3.0), "p4d.24xlarge", P4D)
    assert pick is not None and pick.target.gpus.instance_type == "g6.xlarge"
    assert pick.monthly_savings_usd == pytest.approx((P4D - G6_X) * 730)  # 15,441.37


def test_headroom_is_the_edge_of_a_fit() -> None:
    # 20 GB x 1.2 = 24.0 GB: exactly one 24 GB card; 20.01 GB does not fit any 24 GB GPU
    assert gpu_fit.HEADROOM == 0.20
    fits = _aws(GpuNeed(20.0, 20.0, 1.0), "p4d.24xlarge", P4D)
    assert fits is not None and fits.target.gpus.model.memory_gb == 24
    # 20.01 x 1.2 = 24.012 GB on one GPU: every AWS target GPU (T4, A10G, L4) has at most 24
    assert _aws(GpuNeed(20.01, 20.01, 1.0), "p4d.24xlarge", P4D) is None
    # never a dearer instance: a g5.xlarge at 30% needs 70 x 0.3 x 1.2 = 25.2 TFLOPS and 7.2 GB,
    # which a T4 (0.526) holds; at 80% it needs 67.2 TFLOPS: nothing cheaper than 1.006 but g6.xlarge
    assert _aws(GpuNeed(6.0, 6.0, 30.0), "g5.xlarge", G5_X).target.gpus.instance_type == "g4dn.xlarge"
    assert _aws(GpuNeed(6.0, 6.0, 80.0), "g5.xlarge", G5_X).target.gpus.instance_type == "g6.xlarge"
    assert _aws(GpuNeed(6.0, 6.0, 80.0), "g6.xlarge", G6_X) is None  # nothing cheaper holds it


def test_mig_profiles_are_their_share_of_the_card() -> None:
    assert mig_share("nvidia.com/mig-1g.10gb", "NVIDIA-A100-SXM4-80GB") == pytest.approx(1 / 7)
    assert mig_share("nvidia.com/mig-3g.40gb", "NVIDIA-A100-SXM4-80GB") == pytest.approx(3 / 7)
    assert mig_share("nvidia.com/mig-1g.6gb", "NVIDIA-A30") == pytest.approx(1 / 4)  # A30: 4 slices
    assert mig_share("nvidia.com/gpu", "NVIDIA-A100-SXM4-80GB") is None


def _seed() -> None:
    now = datetime.now(UTC)
    seed_region(
        "us-east-1",
        [
            # 8 x A100-40GB at a 10% utilisation wave (max 10 x 1.32 = 13.2%) and 5000 MiB used
            # (max 6600 MiB) of 40960 on each GPU
            DemoInstance(
                "embed-p4d",
                "p4d.24xlarge",
                {"team": "search"},
                cpu=20,
                gpu=10,
                net_mb_day=800,
                gpus=8,
                gpu_name="NVIDIA A100-SXM4-40GB",
                gpu_mem_mib=5000,
                gpu_mem_total_mib=40960,
            ),
            # utilisation but no memory published: not judged for size
            DemoInstance("train-g5", "g5.xlarge", {"team": "search"}, cpu=30, gpu=30, net_mb_day=800),
        ],
        [],
        now,
    )


def test_ec2_rightsize_from_cloudwatch_agent_memory(shared_estate, runner) -> None:
    far_end = shared_estate("test_gpu_rightsize", _seed)
    report = run_json(runner, "scan", "--regions", "us-east-1")
    found = {(f["rule_id"], f["resource_name"]): f for f in report["findings"]}
    rs = found[("gpu-rightsize", "embed-p4d")]
    ev = rs["evidence"]
    # peaks: 6600 MiB / 1024 = 6.445 GB a GPU, x 8 = 51.5625 GB; memory 8 x 40960 MiB = 320 GB;
    # needs 7.73 GB a GPU, 61.875 GB, 8 x 312 x 0.132 x 1.2 = 395.4 TFLOPS: g6.12xlarge (96 GB, 484)
    assert ev["gpu_mem_peak_per_gpu_gb"] == pytest.approx(6.445, abs=1e-3)
    assert ev["gpu_mem_peak_gb"] == pytest.approx(51.562, abs=1e-3)
    assert ev["gpu_mem_total_gb"] == 320.0
    assert ev["gpu_activity_max_pct"] == 13.2 and ev["gpu_activity_metric"] == "nvidia_smi_utilization_gpu"
    assert ev["rightsize_target"] == "g6.12xlarge" and ev["rightsize_target_hourly_usd"] == 4.6016
    # (21.957642 - 4.6016) x 730 = 12,669.91066; high (>= 5,000), medium (utilisation, not engine)
    assert rs["estimated_monthly_savings_usd"] == pytest.approx(12669.91)
    assert rs["severity"] == "high" and rs["confidence"] == "medium" and rs["category"] == "rightsizing"
    assert ("gpu-rightsize", "train-g5") not in found
    # the memory metrics ride in the same GetMetricData batch (one call) and are not listed: the
    # one paginated ListMetrics of the utilisation metric (moto lists a metric once per datapoint:
    # 8 GPUs x 84 points = 672 entries, two pages of 500)
    ops = [op for service, _, op in far_end.recorder.calls if service == "monitoring"]
    assert ops.count("GetMetricData") == 1 and ops.count("ListMetrics") == 2
