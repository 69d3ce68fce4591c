"""AWS scanners end to end: moto server behind a proxy, the real CLI, amounts by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aifinops_cli.demo.aws import DemoInstance, DemoVolume, seed_region
from aifinops_cli.scanners.aws import common
from tests.conftest import run_cli, run_json
from tests.fakes.aws_proxy import Fault
from tests.paths import ROOT

INSTANCES = [
    # idle, GPU metrics published: p3.2xlarge 3.06 $/h x 730 h = 2,233.80 + 200 GB gp3 x 0.08 = 16.00
    DemoInstance("idle-p3", "p3.2xlarge", {"team": "research"}, cpu=1.0, gpu=0.5, root_gb=200),
    # idle, CPU only: g4dn.xlarge 0.526 x 730 = 383.98 + 100 GB gp3 x 0.08 = 8.00
    DemoInstance("idle-g4dn", "g4dn.xlarge", {"Owner": "inference"}, cpu=0.5, net_mb_day=1),
    DemoInstance("busy-g5", "g5.xlarge", {"team": "inference"}, cpu=55, gpu=70, net_mb_day=5000),
    # idle but not accelerated: out of scope
    DemoInstance("idle-m5", "m5.large", {"team": "web"}, cpu=0.5),
    # stopped: 500 GB gp3 root x 0.08 = 40.00 a month keeps billing
    DemoInstance("parked-g5", "g5.2xlarge", {"cost-center": "cc-42"}, cpu=0, stopped=True, root_gb=500),
]
VOLUMES_USE1 = [
    # gp3 1000 GB x 0.08 = 80 + (4000-3000) IOPS x 0.005 = 5 + (200-125) MiB/s x 0.04 = 3 -> 88.00
    DemoVolume("gp3-extra", 1000, "gp3", {"team": "research"}, iops=4000, throughput=200),
    # io1 100 GB x 0.125 = 12.50 + 1000 IOPS x 0.065 = 65.00 -> 77.50
    DemoVolume("io1-old", 100, "io1", {}, iops=1000),
]
VOLUMES_EUW1 = [DemoVolume("sc1-cold", 1000, "sc1", {"team": "research"})]  # 1000 x 0.0168 = 16.80


def _seed() -> None:
    now = datetime.now(UTC)
    seed_region("us-east-1", INSTANCES, VOLUMES_USE1, now)
    seed_region("eu-west-1", [], VOLUMES_EUW1, now)


@pytest.fixture
def estate(shared_estate):
    """The estate above, seeded once per worker: every test using it only scans (reads)."""
    return shared_estate("test_aws_scan", _seed)


def by_name(report):
    return {f["resource_name"]: f for f in report["findings"]}


def test_findings_and_amounts(estate, runner):
    report = run_json(runner, "scan", "--regions", "us-east-1,eu-west-1")
    found = by_name(report)
    assert set(found) == {"idle-p3", "idle-g4dn", "parked-g5", "gp3-extra", "io1-old", "sc1-cold"}

    p3 = found["idle-p3"]
    assert p3["rule_id"] == "aws-ec2-idle-gpu"
    assert p3["resource_id"].startswith("i-")
    assert p3["monthly_cost_usd"] == pytest.approx(2249.80)
    assert p3["estimated_monthly_savings_usd"] == pytest.approx(2249.80)
    assert p3["confidence"] == "high"  # GPU metrics present
    assert p3["severity"] == "high"  # >= $1,000 a month
    assert p3["owner"] == "research"
    assert p3["evidence"]["gpu_util_max_pct"] < 5
    basis = p3["evidence"]["cost_basis"][0]
    assert (basis["unit_price_usd"], basis["quantity"], basis["source"]) == (3.06, 730.0, "aws-on-demand")

    g4 = found["idle-g4dn"]
    assert g4["monthly_cost_usd"] == pytest.approx(391.98)
    assert g4["confidence"] == "medium"  # CPU evidence only
    assert "gpu_util_max_pct" not in g4["evidence"]
    assert g4["owner"] == "inference"  # tag key `Owner` matched case-insensitively

    parked = found["parked-g5"]
    assert parked["rule_id"] == "aws-ec2-stopped-gpu-storage"
    assert parked["estimated_monthly_savings_usd"] == pytest.approx(40.00)
    assert parked["owner"] == "cc-42"

    assert found["gp3-extra"]["monthly_cost_usd"] == pytest.approx(88.00)
    assert found["gp3-extra"]["resource_id"].startswith("vol-")
    assert found["io1-old"]["monthly_cost_usd"] == pytest.approx(77.50)
    assert found["io1-old"]["owner"] is None
    assert found["sc1-cold"]["monthly_cost_usd"] == pytest.approx(16.80)
    assert found["sc1-cold"]["region"] == "eu-west-1"

    total = 2249.80 + 391.98 + 40.00 + 88.00 + 77.50 + 16.80
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(total)
    assert report["summary"]["by_category"]["zombie-infrastructure"] == pytest.approx(2249.80 + 391.98)
    assert report["summary"]["by_owner"]["(unowned)"] == pytest.approx(77.50)
    assert report["coverage"]["complete"] is True


def test_metrics_are_batched_not_per_instance(estate, runner):
    run_json(runner, "scan", "--regions", "us-east-1,eu-west-1", "-s", "aws.ec2", "-s", "aws.ebs")
    ops = estate.recorder.operations()
    # one DescribeInstances and one DescribeVolumes per region, one GetMetricData for the
    # region with running GPU instances (3 instances x 4 queries + GPU queries < 500)
    assert ops["DescribeInstances"] == 2
    assert ops["DescribeVolumes"] == 2
    assert ops["GetMetricData"] == 1
    assert ops["ListMetrics"] == 1
    assert sum(ops.values()) <= 8, ops


def test_thresholds_change_without_copying_rules(estate, runner):
    # an idle bar of 0.6% CPU keeps the 0.5% instance idle but clears the 1% one
    report = run_json(
        runner,
        "scan",
        "--regions",
        "us-east-1",
        "--set",
        "aws-ec2-idle-gpu.cpu_max_pct=0.6",
        "--set",
        "aws-ec2-idle-gpu.cpu_avg_pct=0.6",
    )
    names = {f["resource_name"] for f in report["findings"] if f["rule_id"] == "aws-ec2-idle-gpu"}
    assert names == {"idle-g4dn"}


def test_discount_from_config(estate, runner, tmp_path):
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text(
        "pricing:\n  discount_pct: {aws.ebs: 10}\n"
        "  overrides:\n    - {service: aws.ec2, sku: p3.2xlarge, unit_price_usd: 2.0}\n"
    )
    report = run_json(runner, "--config", str(cfg), "scan", "--regions", "us-east-1")
    found = by_name(report)
    # EBS 10% off: gp3-extra 88.00 x 0.9 = 79.20
    assert found["gp3-extra"]["monthly_cost_usd"] == pytest.approx(79.20)
    # negotiated p3 price: 2.0 x 730 = 1,460 + root 16.00 x 0.9 = 14.40 -> 1,474.40
    assert found["idle-p3"]["monthly_cost_usd"] == pytest.approx(1474.40)
    assert found["idle-p3"]["evidence"]["cost_basis"][0]["source"] == "user-override"


def test_access_denied_in_one_region_is_reported_and_others_scanned(estate, runner):
    estate.recorder.faults.append(Fault("UnauthorizedOperation", region="eu-west-1"))
    result = run_cli(runner, "scan", "--regions", "us-east-1,eu-west-1", "--format", "json")
    assert result.exit_code == 0
    import json

    report = json.loads(result.stdout)
    failed = [s for s in report["coverage"]["scopes"] if s["status"] == "failed"]
    assert {(s["scope"]) for s in failed} == {"eu-west-1"}
    assert "access denied" in failed[0]["message"]
    assert "sc1-cold" not in by_name(report)
    assert "gp3-extra" in by_name(report)
    assert report["coverage"]["complete"] is False
    assert "eu-west-1" in result.stderr and "Traceback" not in result.output


def test_throttling_is_retried(estate, runner):
    estate.recorder.faults.append(Fault("Throttling", status=400, operation="DescribeVolumes", times=2))
    report = run_json(runner, "scan", "--regions", "us-east-1")
    assert "gp3-extra" in by_name(report)
    assert report["coverage"]["complete"] is True


def test_expired_token_is_one_line_and_exit_3(estate, runner):
    estate.recorder.faults.append(Fault("ExpiredToken", operation="GetCallerIdentity"))
    result = run_cli(runner, "scan", "--regions", "us-east-1")
    assert result.exit_code == 3
    assert "expired" in result.stderr and "Traceback" not in result.output


def test_no_credentials(aws_env, runner, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run_cli(runner, "scan", "--regions", "us-east-1")
    assert result.exit_code == 3
    assert "no AWS credentials found" in result.stderr
    assert "Traceback" not in result.output


def test_all_enabled_regions_by_default(estate, runner):
    report = run_json(runner, "scan", "--scanner", "aws.ebs")
    scopes = {s["scope"] for s in report["coverage"]["scopes"]}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= scopes
    assert by_name(report)["sc1-cold"]["region"] == "eu-west-1"


def test_only_read_operations(estate, runner):
    """A whole scan calls Describe/List/Get operations only (botocore before-call event), and
    builds one client per service and region however many scanners use it (botocore announces
    each client it builds with `creating-client-class`; EC2's has ~600 methods to make)."""
    seen: list[str] = []
    built: list[str] = []

    def hook(session):
        session.events.register("before-call", lambda model, **_: seen.append(model.name))
        # the event is named after the service: creating-client-class.ec2
        session.events.register("creating-client-class", lambda event_name, **_: built.append(event_name))

    common.SESSION_HOOKS.append(hook)
    try:
        run_json(runner, "scan", "--regions", "us-east-1,eu-west-1")
    finally:
        common.SESSION_HOOKS.remove(hook)
    assert seen, "the hook saw no calls"
    assert all(op.startswith(("Describe", "List", "Get")) for op in seen), sorted(set(seen))
    assert {"DescribeInstances", "DescribeVolumes", "GetMetricData"} <= set(seen)
    # ec2, cloudwatch and sagemaker serve 3-5 scanners each: still one client a region
    assert built, "the hook saw no client built"
    counts = {name.rpartition(".")[2]: built.count(name) for name in set(built)}
    assert {"ec2", "cloudwatch", "sagemaker"} <= set(counts)
    assert all(n <= 2 for n in counts.values()), counts


def test_cloudwatch_denied_is_partial_and_the_rest_still_judged(estate, runner):
    estate.recorder.faults.append(Fault("AccessDenied", status=400, operation="GetMetricData"))
    report = run_json(runner, "scan", "--regions", "us-east-1")
    names = set(by_name(report))
    assert "idle-p3" not in names  # no utilisation, no idle verdict
    assert {"parked-g5", "gp3-extra", "io1-old"} <= names
    [ec2] = [s for s in report["coverage"]["scopes"] if s["scanner"] == "aws.ec2"]
    assert ec2["status"] == "partial"
    assert "utilisation not read" in ec2["message"] and "access denied" in ec2["message"]


def test_opt_in_region_and_unknown_profile(estate, runner):
    estate.recorder.faults.append(Fault("OptInRequired", region="ap-east-1"))
    report = run_json(runner, "scan", "--scanner", "aws.ebs", "--regions", "us-east-1,ap-east-1")
    [failed] = [s for s in report["coverage"]["scopes"] if s["status"] == "failed"]
    assert failed["scope"] == "ap-east-1" and "not enabled" in failed["message"]
    result = run_cli(runner, "scan", "--profile", "nope", "--regions", "us-east-1")
    assert result.exit_code == 3
    assert "profile" in result.stderr and "Traceback" not in result.output


SPOT = [DemoInstance("spot-idle", "g5.xlarge", {"team": "ml"}, cpu=0.5, spot=True)]


def _seed_spot() -> None:
    seed_region("us-east-1", SPOT, [], datetime.now(UTC))


def test_spot_instance_priced_at_its_spot_price(shared_estate, runner):
    far_end = shared_estate("spot-idle", _seed_spot)
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    [f] = report["findings"]
    compute, root = f["evidence"]["cost_basis"]
    # the far end (moto) publishes 0.00001 $/h for every type and zone, effective 2006-01-02:
    # 0.00001 x 730 = 0.0073, + 100 GB gp3 root x 0.08 = 8.00 -> 8.0073, 8.01 in cents
    assert (
        compute["unit_price_usd"],
        compute["quantity"],
        compute["source"],
        compute["price_date"],
        compute["sku"],
    ) == (0.00001, 730.0, "aws-spot-price-history", "2006-01-02", "aws.ec2.spot:g5.xlarge:us-east-1a")
    assert root["monthly_usd"] == pytest.approx(8.00)
    assert f["monthly_cost_usd"] == 8.01
    assert far_end.recorder.operations()["DescribeSpotPriceHistory"] == 1
    policy = json.loads((ROOT / "docs" / "permissions" / "aws-iam-policy.json").read_text())
    assert "ec2:DescribeSpotPriceHistory" in {a for st in policy["Statement"] for a in st["Action"]}


def test_spot_price_denied_falls_back_to_on_demand(shared_estate, runner):
    far_end = shared_estate("spot-idle", _seed_spot)
    far_end.recorder.faults.append(Fault("UnauthorizedOperation", operation="DescribeSpotPriceHistory"))
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    [f] = report["findings"]
    # on-demand upper bound: 1.006 x 730 = 734.38 + 8.00 root = 742.38
    assert f["monthly_cost_usd"] == pytest.approx(742.38)
    assert f["evidence"]["cost_basis"][0]["source"] == "aws-on-demand"
    assert any("Spot instance priced at the on-demand rate" in n for n in f["evidence"]["notes"])
