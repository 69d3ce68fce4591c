"""A stopped EC2 instance whose attached EBS volume no catalog prices carries that volume's SKU in
`unpriced`, so aws-ec2-stopped-gpu-storage (which needs $1 of attached storage) does not drop it
at $0, and the finding shows "unpriced". On the moto server through boto3, priced from a catalog
written here that has io1 but no gp3, so the amounts are known by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Severity
from aifinops_cli.core.money import money
from aifinops_cli.core.pipeline import run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.report import to_dict
from aifinops_cli.core.rules import load_rules
from aifinops_cli.demo.aws import DemoInstance, seed_region
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.aws.ec2 import GpuInstanceScanner
from aifinops_cli.scanners.aws.provider import AwsSettings

REGION = "us-east-1"
# no gp3 (nor any other type but io1): the instances' gp3 volumes are unpriced
PRICES = {
    "catalog": "test-aws",
    "price_date": "2026-11-01",
    "source": "written in this test",
    "services": {
        "aws.ec2": {"unit": "hour", "prices": {REGION: {"g5.2xlarge": 1.212}}},
        "aws.ebs": {"unit": "GB-month", "prices": {REGION: {"io1": 0.125}}},
        "aws.ebs.iops": {"unit": "IOPS-month", "prices": {REGION: {"io1": 0.065}}},
    },
}


def _name_of(inst: dict) -> str:
    return next(t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name")


def _seed() -> None:
    seed_region(
        REGION,
        [
            # stopped, 100 GB gp3 root + 1,500 GB gp3 data: nothing priced, 1,600 GB attached
            DemoInstance(
                "parked-big", "g5.2xlarge", {"team": "ml"}, cpu=0, stopped=True, root_gb=100, data_gb=1500
            ),
            # stopped, 100 GB gp3 root (unpriced) + an io1 volume attached below (priced)
            DemoInstance("parked-mixed", "g5.2xlarge", {"team": "ml"}, cpu=0, stopped=True, root_gb=100),
        ],
        [],
        datetime.now(UTC),
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    instances = {_name_of(i): i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    io1 = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=100, VolumeType="io1", Iops=1000)
    ec2.attach_volume(
        VolumeId=io1["VolumeId"], InstanceId=instances["parked-mixed"]["InstanceId"], Device="/dev/sdg"
    )


@pytest.fixture
def report(shared_estate):
    shared_estate("test_unpriced_aws", _seed)
    prices = PriceCatalog()
    prices.add_catalog(PRICES, "test")
    options = ScanOptions(
        providers=["aws"], settings={"aws": AwsSettings(regions=[REGION], live_prices=False)}
    )
    ctx = ScanContext(options=options, config=Config(), prices=prices, now=datetime.now(UTC))
    return run_scan(ctx, [GpuInstanceScanner], load_rules()).report


def test_stopped_instance_with_an_unpriced_volume_is_found(report) -> None:
    found = {f.observation.name: f for f in report.findings if f.rule_id == "aws-ec2-stopped-gpu-storage"}
    assert set(found) == {"parked-big", "parked-mixed"}
    big = found["parked-big"]
    # no volume priced: $0 known is a lower bound, not $0; the rule's $1 threshold is undecided
    # and passes; medium by size (1,600 GB >= 1,000), not low by its $0
    assert big.unpriced == ("aws.ebs:gp3:us-east-1",)
    assert big.estimated_monthly_savings_usd == 0.0 and big.severity == Severity.MEDIUM
    assert big.observation.metrics["attached_volume_gb"] == 1600.0
    assert money(big.estimated_monthly_savings_usd, bool(big.unpriced)) == "unpriced"
    mixed = found["parked-mixed"]
    # io1 100 GB x 0.125 = 12.50 + 1,000 IOPS x 0.065 = 65.00 -> 77.50 known, plus the gp3 root
    assert mixed.estimated_monthly_savings_usd == pytest.approx(100 * 0.125 + 1000 * 0.065)
    assert mixed.estimated_monthly_savings_usd == pytest.approx(77.50)
    assert mixed.unpriced == ("aws.ebs:gp3:us-east-1",)
    # $100 for medium cannot be decided on 77.50 + unknown; by size (200 GB < 1,000): low
    assert mixed.severity == Severity.LOW
    assert money(mixed.estimated_monthly_savings_usd, True) == "$77.50 + unpriced"


def test_the_report_counts_them_as_unpriced(report) -> None:
    s = to_dict(report)["summary"]
    assert s["unpriced_by_rule"] == {"aws-ec2-stopped-gpu-storage": 2}
    assert s["monthly_waste_usd"] == pytest.approx(77.50)  # the known part only
    # the volumes themselves are listed as unpriced by id: 3 gp3 volumes (2 + 1)
    assert sorted(u["sku"] for u in report.unpriced) == ["aws.ebs:gp3:us-east-1"] * 3
