"""AWS prices read from the AWS Price List API at scan time, against a local fake of it.

The scan runs on a moto server (inventory, metrics) with `AWS_ENDPOINT_URL_PRICING` pointing
botocore's real `pricing` client at the fake Price List; amounts are worked out by hand from the
fake's prices, which differ from the bundled catalog's on purpose so the source is visible.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aifinops_cli.demo.aws import DemoInstance, DemoVolume, seed_region
from aifinops_cli.demo.aws_ml import DemoEndpoint, DemoNodegroup, seed_endpoints, seed_nodegroups
from tests.conftest import run_json
from tests.fakes.price_apis import PriceApis, aws_product, serve_price_apis

INSTANCES = [
    DemoInstance("idle-p3", "p3.2xlarge", {"team": "research"}, cpu=1.0, gpu=0.5, root_gb=200),
    DemoInstance("parked-g5", "g5.2xlarge", {"team": "ml"}, cpu=0, stopped=True, root_gb=500),
]
VOLUMES = [DemoVolume("io1-old", 100, "io1", {}, iops=1000)]


def _price_list() -> PriceApis:
    ebs = {"family": "Storage", "unit": "GB-Mo", "sku_field": "volumeApiName"}
    iops = {
        "family": "System Operation",
        "unit": "IOPS-Mo",
        "sku_field": "volumeApiName",
        "extra": {"group": "EBS IOPS"},
    }
    return PriceApis(
        aws_products=[
            aws_product("p3.2xlarge", "us-east-1", 3.2),
            aws_product("p3.2xlarge", "ap-southeast-1", 4.24),  # another region: never asked for
            aws_product("g5.2xlarge", "us-east-1", 1.3),
            aws_product("m5.large", "us-east-1", 0.1),
            aws_product("gp3", "us-east-1", 0.07, **ebs),
            aws_product("io1", "us-east-1", 0.12, **ebs),
            aws_product("io1", "us-east-1", 0.06, **iops),
            aws_product("sc1", "us-east-1", 0.015, **ebs),
        ],
        page_size=2,
    )


@pytest.fixture
def priced(shared_estate, monkeypatch, tmp_path):
    shared_estate("test_pricing_aws", lambda: seed_region("us-east-1", INSTANCES, VOLUMES, datetime.now(UTC)))
    apis = _price_list()
    monkeypatch.setenv("AIFINOPS_PRICE_CACHE", str(tmp_path / "price-cache"))
    with serve_price_apis(apis) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", url)
        yield apis


def _by_name(report):
    return {f["resource_name"]: f for f in report["findings"]}


def test_instances_and_volumes_priced_from_the_price_list(priced, runner):
    report = run_json(
        runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2", "--scanner", "aws.ebs"
    )
    found = _by_name(report)
    p3 = found["idle-p3"]["evidence"]["cost_basis"]
    # p3.2xlarge from the price list: 3.2 $/h x 730 h = 2,336.00 (bundled: 3.06);
    # root 200 GB gp3 x 0.07 = 14.00 -> 2,350.00
    assert (p3[0]["unit_price_usd"], p3[0]["quantity"], p3[0]["source"], p3[0]["price_date"]) == (
        3.2,
        730.0,
        "live:aws-price-list",
        "2026-11-20",
    )
    assert p3[1]["source"] == "live:aws-price-list" and p3[1]["unit_price_usd"] == 0.07
    assert found["idle-p3"]["monthly_cost_usd"] == pytest.approx(3.2 * 730 + 200 * 0.07)
    # stopped g5: only its 500 GB gp3 root bills, 500 x 0.07 = 35.00
    assert found["parked-g5"]["monthly_cost_usd"] == pytest.approx(35.0)
    # io1 100 GB x 0.12 = 12.00 + 1000 IOPS x 0.06 = 60.00 -> 72.00 (bundled would be 77.50)
    assert found["io1-old"]["monthly_cost_usd"] == pytest.approx(100 * 0.12 + 1000 * 0.06)
    # one region: accelerated types in one call (ANY_OF p3.2xlarge,g5.2xlarge; m5 never asked),
    # volume types in one (gp3,io1; 2 matches fit one page of 2), IOPS in one
    assert priced.count("aws") == 3
    live = [c for c in report["parameters"]["price_catalogs"] if c["catalog"] == "live:aws-price-list"]
    assert [(c["price_date"], c["file"]) for c in live] == [("2026-11-20", "live")]
    asked = [json.loads(f) for _, f in priced.calls]
    assert {"Type": "ANY_OF", "Field": "instanceType", "Value": "g5.2xlarge,p3.2xlarge"} in asked[0]
    assert {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"} in asked[0]


def test_second_run_reads_the_disk_cache_and_makes_no_call(priced, runner):
    first = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    calls = priced.count("aws")
    second = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    assert calls == 3 and priced.count("aws") == calls  # nothing asked the second time
    assert _by_name(second)["idle-p3"]["monthly_cost_usd"] == _by_name(first)["idle-p3"]["monthly_cost_usd"]
    assert _by_name(second)["idle-p3"]["evidence"]["cost_basis"][0]["source"] == "live:aws-price-list"


def test_a_batch_that_matches_nothing_is_asked_again_one_sku_at_a_time(priced, runner):
    priced.any_of_matches_nothing = True
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    # still the price list's 3.2 x 730 + 200 GB x 0.07 = 2,350.00
    assert _by_name(report)["idle-p3"]["monthly_cost_usd"] == pytest.approx(3.2 * 730 + 200 * 0.07)
    # each batch (instances p3/g5, volume types gp3/io1, IOPS of gp3/io1: moto gives the gp3
    # roots Iops 3000) answers nothing, so 3 x (1 ANY_OF + 2 TERM_MATCH) = 9 calls
    assert priced.count("aws") == 9


@pytest.mark.writes_aws
def test_eks_gpu_nodes_priced_from_the_price_list(priced, runner):
    seed_nodegroups(
        "us-east-1",
        [DemoNodegroup("ml", "gpu-a10g", "g5.2xlarge", 2, {"team": "ml"}, cpu=2.0, gpu=0.3)],
        datetime.now(UTC),
    )
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.eks")
    [group] = [f for f in report["findings"] if f["resource_name"] == "gpu-a10g"]
    [line] = group["evidence"]["cost_basis"]
    # 2 nodes x g5.2xlarge 1.3 $/h (the price list's; bundled 1.212) x 730 h = 1,898.00
    assert (line["unit_price_usd"], line["quantity"], line["source"]) == (1.3, 1460.0, "live:aws-price-list")
    assert group["monthly_cost_usd"] == pytest.approx(2 * 1.3 * 730)


@pytest.mark.writes_aws
def test_sagemaker_endpoint_outside_the_bundled_regions_priced_from_the_price_list(priced, runner):
    region = "ap-southeast-1"  # the bundled catalog prices SageMaker in us-east-1/us-west-2 only
    priced.aws_products.append(
        aws_product(
            "ml.g4dn.xlarge",
            region,
            0.92,
            family="ML Instance",
            sku_field="instanceName",
            extra={"platoinstancetype": "Hosting"},
            service_code="AmazonSageMaker",
        )
    )
    seed_endpoints(
        region,
        [
            DemoEndpoint(
                "idle-bert",
                {"team": "growth"},
                "s3://m/bert.tar.gz",
                "ml.g4dn.xlarge",
                2,
                invocations_per_day=0,
                age_days=60,
            )
        ],
        datetime.now(UTC),
    )
    report = run_json(runner, "scan", "--regions", region, "--scanner", "aws.sagemaker")
    [idle] = [f for f in report["findings"] if f["resource_name"] == "idle-bert"]
    [line] = idle["evidence"]["cost_basis"]
    # 2 instances x 0.92 $/h x 730 h = 1,343.20, from the price list (bundled: unpriced here)
    assert (line["unit_price_usd"], line["quantity"], line["source"]) == (0.92, 1460.0, "live:aws-price-list")
    assert idle["monthly_cost_usd"] == pytest.approx(2 * 0.92 * 730)
    asked = json.loads(priced.calls[-1][1])
    assert {"Type": "TERM_MATCH", "Field": "instanceName", "Value": "ml.g4dn.xlarge"} in asked


def test_denied_price_list_falls_back_to_the_bundled_catalog_with_a_note(priced, runner):
    priced.deny_aws = True
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    p3 = _by_name(report)["idle-p3"]
    # bundled: p3.2xlarge 3.06 x 730 = 2,233.80 + 200 GB gp3 x 0.08 = 16.00 -> 2,249.80
    assert p3["monthly_cost_usd"] == pytest.approx(2249.80)
    assert p3["evidence"]["cost_basis"][0]["source"] == "aws-on-demand"
    [ec2] = [s for s in report["coverage"]["scopes"] if s["scanner"] == "aws.ec2"]
    assert "prices from the bundled catalog" in ec2["message"]
    assert "access denied for GetProducts" in ec2["message"]
