"""Transfer classes and AI spend by the usage types, SKUs and meters the vendors document.

One case per family. Every expected dollar is worked out in the test from the rows it writes
(GB x the billed rate), in the vendors' own column layouts: legacy CUR CSV headers
(`lineItem/UsageType`, `product/transferType`), the GCP BigQuery export's nested JSON (`sku.description`,
`usage.amount_in_pricing_units`, `labels`), and FOCUS 1.0 rows as Azure and OCI export them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.scanners.billing.analyze import UNTAGGED
from aifinops_cli.scanners.billing.scanner import read_billing

CUR_COLUMNS = [
    "identity/LineItemId",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "product/region",
    "product/toRegionCode",
    "product/transferType",
    "pricing/unit",
    "resourceTags/user:team",
]


def write_cur(path: Path, rows: list[tuple]) -> Path:
    """rows: (product code, usage type, resource, amount, cost, region, to region, transfer type, unit,
    team)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CUR_COLUMNS)
        for i, (code, ut, res, amount, cost, region, to_region, ttype, unit, team) in enumerate(rows):
            w.writerow(
                [
                    f"li{i}",
                    "2025-03-01T00:00:00Z",
                    "111122223333",
                    "Usage",
                    "2025-03-05T00:00:00Z",
                    code,
                    ut,
                    res,
                    amount,
                    "USD",
                    cost,
                    region,
                    to_region,
                    ttype,
                    unit,
                    team,
                ]
            )
    return path


def cur_facts(tmp_path: Path, rows: list[tuple]):
    (facts,) = read_billing([str(write_cur(tmp_path / "cur.csv", rows))], Config()).facts
    return facts


def flows(facts):
    return {f.key: f for f in facts.flows}


# (family, CUR row(s), expected flow key, expected GB, expected $)
AWS_FAMILIES = [
    # cross-AZ, billed both ways: 300 GB out + 300 GB in, each x $0.01 = $3 + $3
    (
        "xAZ in and out",
        [
            (
                "AmazonEC2",
                "USE1-DataTransfer-xAZ-Out-Bytes",
                "i-a",
                300,
                3.0,
                "us-east-1",
                "",
                "IntraRegion",
                "GB",
                "web",
            ),
            (
                "AmazonEC2",
                "USE1-DataTransfer-xAZ-In-Bytes",
                "i-a",
                300,
                3.0,
                "us-east-1",
                "",
                "IntraRegion",
                "GB",
                "web",
            ),
        ],
        "inter_zone:us-east-1->another zone",
        600.0,
        6.0,
    ),
    # 500 GB x $0.01
    (
        "Regional",
        [
            (
                "AmazonEC2",
                "USE1-DataTransfer-Regional-Bytes",
                "i-a",
                500,
                5.0,
                "us-east-1",
                "",
                "",
                "GB",
                "web",
            )
        ],
        "inter_zone:us-east-1->another zone",
        500.0,
        5.0,
    ),
    # 200 GB x $0.02; a transfer type saying "inbound" does not override the usage type
    (
        "AWS-Out",
        [
            (
                "AmazonEC2",
                "USE1-EUC1-AWS-Out-Bytes",
                "i-a",
                200,
                4.0,
                "us-east-1",
                "",
                "InterRegion Inbound",
                "GB",
                "web",
            )
        ],
        "inter_region:us-east-1->eu-central-1",
        200.0,
        4.0,
    ),
    # 100 GB x $0.09
    (
        "DataTransfer-Out",
        [
            (
                "AmazonEC2",
                "USE1-DataTransfer-Out-Bytes",
                "i-a",
                100,
                9.0,
                "us-east-1",
                "",
                "AWS Outbound",
                "GB",
                "web",
            )
        ],
        "internet:us-east-1->internet",
        100.0,
        9.0,
    ),
    # 200 GB x $0.045 processed; the hourly charge (720 h x $0.045 = $32.40) is no transfer
    (
        "NAT gateway",
        [
            ("AmazonEC2", "USE1-NatGateway-Bytes", "nat-1", 200, 9.0, "us-east-1", "", "", "GB", ""),
            ("AmazonEC2", "USE1-NatGateway-Hours", "nat-1", 720, 32.4, "us-east-1", "", "", "Hrs", ""),
        ],
        "nat:us-east-1->NAT gateway",
        200.0,
        9.0,
    ),
    # interface endpoint (PrivateLink) data processed: 1000 GB x $0.01
    (
        "VPC endpoint / PrivateLink",
        [("AmazonVPC", "USE1-VpcEndpoint-Bytes", "vpce-1", 1000, 10.0, "us-east-1", "", "", "GB", "data")],
        "vpc_endpoint:us-east-1->VPC endpoint",
        1000.0,
        10.0,
    ),
    # Gateway Load Balancer endpoint: 300 GB x $0.0035
    (
        "GWLB endpoint",
        [
            (
                "AmazonVPC",
                "USE1-VpcEndpoint-GWLBE-Bytes",
                "vpce-2",
                300,
                1.05,
                "us-east-1",
                "",
                "",
                "GB",
                "data",
            )
        ],
        "vpc_endpoint:us-east-1->VPC endpoint",
        300.0,
        1.05,
    ),
    # Transit Gateway data processed: 500 GB x $0.02
    (
        "Transit Gateway",
        [("AmazonVPC", "USE1-TransitGateway-Bytes", "tgw-1", 500, 10.0, "us-east-1", "", "", "GB", "net")],
        "transit_gateway:us-east-1->Transit Gateway",
        500.0,
        10.0,
    ),
    # S3 Replication Time Control: 400 GB x $0.015
    (
        "S3 replication (RTC)",
        [
            (
                "AmazonS3",
                "USE1-USW2-S3RTC-Out-Bytes",
                "models-bucket",
                400,
                6.0,
                "us-east-1",
                "us-west-2",
                "",
                "GB",
                "ml",
            )
        ],
        "replication:us-east-1->us-west-2",
        400.0,
        6.0,
    ),
    # CloudFront fetching from its origin: 100 GB x $0.02
    (
        "CloudFront origin",
        [
            (
                "AmazonCloudFront",
                "US-DataTransfer-Out-OBytes",
                "E123",
                100,
                2.0,
                "us-east-1",
                "",
                "",
                "GB",
                "web",
            )
        ],
        "cdn_origin:us-east-1->CDN",
        100.0,
        2.0,
    ),
    # inbound that bills: 50 GB x $0.02 (kept, reported; never a "free" class)
    (
        "AWS-In billed",
        [("AmazonEC2", "USE1-EUC1-AWS-In-Bytes", "i-a", 50, 1.0, "us-east-1", "", "", "GB", "web")],
        "inbound:us-east-1->inbound",
        50.0,
        1.0,
    ),
]


@pytest.mark.parametrize("family,rows,key,gb,cost", AWS_FAMILIES, ids=[f[0] for f in AWS_FAMILIES])
def test_aws_usage_type_families(
    tmp_path: Path, family: str, rows: list[tuple], key: str, gb: float, cost: float
) -> None:
    facts = cur_facts(tmp_path, rows)
    f = flows(facts)
    assert key in f, (family, sorted(f))
    assert (f[key].gb, f[key].cost) == pytest.approx((gb, cost))
    cls = key.split(":")[0]
    assert facts.by_class[cls]["cost"] == pytest.approx(cost)
    # every billed dollar of these rows is in a class, except the NAT hours (no transfer)
    classed = sum(v["cost"] for v in facts.by_class.values())
    expected = sum(r[4] for r in rows if not r[1].endswith("Hours"))
    assert classed == pytest.approx(expected)


def test_s3_replication_transfer_and_cloudfront_free_leg(tmp_path: Path) -> None:
    """S3 cross-region replication bills the transfer as `-AWS-Out-Bytes` under AmazonS3 (inter-region,
    from the bucket) and RTC apart; the S3 -> CloudFront leg bills $0 and makes no flow."""
    facts = cur_facts(
        tmp_path,
        [
            (
                "AmazonS3",
                "USE1-USW2-AWS-Out-Bytes",
                "models-bucket",
                400,
                8.0,
                "us-east-1",
                "us-west-2",
                "",
                "GB",
                "ml",
            ),  # 400 GB x $0.02
            (
                "AmazonS3",
                "USE1-USW2-S3RTC-Out-Bytes",
                "models-bucket",
                400,
                6.0,
                "us-east-1",
                "us-west-2",
                "",
                "GB",
                "ml",
            ),  # 400 GB x $0.015
            (
                "AmazonS3",
                "USE1-CloudFront-Out-Bytes",
                "models-bucket",
                900,
                0.0,
                "us-east-1",
                "",
                "",
                "GB",
                "ml",
            ),
        ],
    )
    f = flows(facts)
    assert set(f) == {"inter_region:us-east-1->us-west-2", "replication:us-east-1->us-west-2"}
    ir = f["inter_region:us-east-1->us-west-2"]
    assert (ir.gb, ir.cost) == pytest.approx((400.0, 8.0))
    assert list(ir.resources) == ["models-bucket"]
    assert facts.by_class["cdn_origin"] == pytest.approx({"gb": 900.0, "cost": 0.0, "rows": 1.0})


def test_inbound_dollars_are_reported_not_free(tmp_path: Path) -> None:
    """Billed inbound bytes appear in the report's class table and summary with their dollars."""
    from aifinops_cli.scanners.billing.analyze import analysis_section

    facts = cur_facts(
        tmp_path,
        [
            ("AmazonEC2", "USE1-DataTransfer-In-Bytes", "i-a", 1000, 0.0, "us-east-1", "", "", "GB", "web"),
            (
                "AmazonEC2",
                "USE1-EUC1-AWS-In-Bytes",
                "i-a",
                50,
                1.0,
                "us-east-1",
                "",
                "",
                "GB",
                "web",
            ),  # 50 x $0.02
            ("AmazonVPC", "USE1-TransitGateway-Bytes", "tgw-1", 500, 10.0, "us-east-1", "", "", "GB", "net"),
        ],
    )
    assert facts.by_class["inbound"] == pytest.approx({"gb": 1050.0, "cost": 1.0, "rows": 2.0})
    section = analysis_section([facts])
    # other billed transfer: inbound $1 + Transit Gateway $10 = $11
    assert section["summary"]["Other billed transfer (USD)"] == pytest.approx(11.0)
    rows = {r[1]: r for r in section["tables"][1]["rows"]}
    assert rows["inbound"][3] == pytest.approx(1.0) and rows["Transit Gateway processing"][3] == 10.0


# --- GCP ---------------------------------------------------------------------------------------


def gcp_row(
    service: str, sku: str, gib: float, cost: float, team: str | None = None, region: str = "us-central1"
) -> dict:
    return {
        "billing_account_id": "01ABCD-234567-89EF01",
        "service": {"id": "s", "description": service},
        "sku": {"id": "k", "description": sku},
        "usage_start_time": "2025-05-03T00:00:00Z",
        "usage_end_time": "2025-05-03T01:00:00Z",
        "project": {"id": "p1", "name": "p1", "labels": []},
        "labels": [{"key": "team", "value": team}] if team else [],
        "location": {"location": region, "country": "US", "region": region, "zone": None},
        "cost": cost,
        "currency": "USD",
        "currency_conversion_rate": 1.0,
        "usage": {
            "amount": gib,
            "unit": "gibibyte",
            "amount_in_pricing_units": gib,
            "pricing_unit": "gibibyte",
        },
        "credits": [],
        "invoice": {"month": "202505"},
        "cost_type": "regular",
    }


def write_jsonl(path: Path, rows: list[dict], extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("\n".join([*(json.dumps(r) for r in rows), *extra_lines]) + "\n", encoding="utf-8")
    return path


GCP_FAMILIES = [
    # 1000 GiB x $0.01
    (
        "inter-zone",
        "Network Inter Zone Data Transfer Out",
        1000,
        10.0,
        "inter_zone:us-central1->another zone",
    ),
    (
        "inter-zone (old name)",
        "Network Inter Zone Egress",
        1000,
        10.0,
        "inter_zone:us-central1->another zone",
    ),
    # 500 GiB x $0.05
    (
        "inter-region",
        "Network Inter Region Data Transfer Out from Americas to EMEA",
        500,
        25.0,
        "inter_region:us-central1->EMEA",
    ),
    # 200 GiB x $0.12
    (
        "internet",
        "Network Internet Data Transfer Out from Americas to APAC",
        200,
        24.0,
        "internet:us-central1->internet",
    ),
    (
        "internet (old name)",
        "Network Internet Egress from Americas to EMEA",
        200,
        24.0,
        "internet:us-central1->internet",
    ),
    # 100 GiB x $0.01
    (
        "to Google services",
        "Network Google Egress from Americas to Americas",
        100,
        1.0,
        "google_services:us-central1->Google services",
    ),
]


@pytest.mark.parametrize("family,sku,gib,cost,key", GCP_FAMILIES, ids=[f[0] for f in GCP_FAMILIES])
def test_gcp_network_skus(tmp_path: Path, family: str, sku: str, gib: float, cost: float, key: str) -> None:
    path = write_jsonl(tmp_path / "gcp.jsonl", [gcp_row("Compute Engine", sku, gib, cost, "vision")])
    (facts,) = read_billing([str(path)], Config()).facts
    f = flows(facts)
    assert key in f, (family, sorted(f))
    assert (f[key].gb, f[key].cost) == pytest.approx((gib, cost))


def test_gcp_gpu_machine_core_and_ram_tpu_and_vertex_count_as_ai(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "gcp.jsonl",
        [
            gcp_row("Compute Engine", "A2 Instance Core running in Americas", 12, 100.0),
            gcp_row("Compute Engine", "A2 Instance Ram running in Americas", 85, 50.0, "vision"),
            gcp_row("Compute Engine", "A3 Instance Core running in Americas", 26, 70.0),
            gcp_row("Compute Engine", "G2 Instance Ram running in EMEA", 16, 8.0, "vision"),
            gcp_row("Compute Engine", "Spot Preemptible A4 Instance Core running in Americas", 10, 12.0),
            gcp_row("Compute Engine", "Commitment v1: A2 Cpu in Americas for 1 Year", 12, 30.0, "vision"),
            gcp_row("Compute Engine", "Nvidia Tesla A100 GPU running in Americas", 1, 300.0),
            gcp_row("Cloud TPU", "TPU v5e Pod running in Americas", 4, 40.0),
            gcp_row("Vertex AI", "Online prediction node hours in Americas", 2, 60.0, "vision"),
            gcp_row("Compute Engine", "E2 Instance Core running in Americas", 24, 20.0),  # not AI
            gcp_row("BigQuery", "Streaming output bytes", 10, 5.0),  # "output" is not TPU
        ],
    )
    (facts,) = read_billing([str(path)], Config()).facts
    # untagged AI compute: 100 + 70 + 12 + 300 + 40 = 522; vision: 50 + 8 + 30 + 60 = 148
    assert facts.ai == pytest.approx({(UNTAGGED, "compute"): 522.0, ("vision", "compute"): 148.0})
    # untagged share 522 / 670 = 77.91% (the GPU line alone would say 300 / 300 = 100%)
    assert 100 * facts.ai_untagged / facts.ai_total == pytest.approx(100 * 522 / 670)


def test_gcp_one_bad_cell_costs_one_row(tmp_path: Path) -> None:
    """A cost DuckDB types as a number from its sample (the first 20,480 records), then "abc" and
    1e400 after it, and an impossible date: three unusable rows, counted with their rows; the
    other rows still add up. (It used to fail the whole file: "JSON transform error ... Failed to
    cast value to numerical".)"""
    n = 20_490
    rows = [
        gcp_row("Compute Engine", "Network Internet Egress from Americas to EMEA", 10, 1.2, "web")
        for _ in range(n)
    ]
    bad = dict(rows[0], cost="abc")
    inf = json.dumps(rows[0])[:-1].replace('"cost": 1.2', '"cost": 1e400') + "}"
    bad_date = dict(rows[0], usage_start_time="2025-13-45T00:00:00Z")  # month 13: no date
    path = write_jsonl(tmp_path / "gcp.jsonl", rows, (json.dumps(bad), inf, json.dumps(bad_date)))
    read = read_billing([str(path)], Config())
    (facts,) = read.facts
    assert (facts.rows, facts.usable_rows, facts.bad_cost_rows, facts.bad_date_rows) == (n + 3, n, 2, 1)
    assert facts.total_cost == pytest.approx(n * 1.2)  # 20,490 x $1.20 = $24,588
    assert [(Path(f).name, row, what) for f, row, what in facts.bad_rows] == [
        ("gcp.jsonl", n + 1, "cost"),
        ("gcp.jsonl", n + 2, "cost"),
        ("gcp.jsonl", n + 3, "date"),
    ]
    (cov,) = read.coverage
    assert cov.status == "partial" and f"{n + 3} rows, 3 unusable" in cov.message
    assert (
        f"gcp.jsonl row {n + 1} (cost), gcp.jsonl row {n + 2} (cost), gcp.jsonl row {n + 3} (date)"
        in cov.message
    )


# --- FOCUS from Azure and OCI ------------------------------------------------------------------

FOCUS_COLUMNS = [
    "BilledCost",
    "BillingCurrency",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "EffectiveCost",
    "ProviderName",
    "RegionId",
    "ResourceId",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "Tags",
    "x_SkuMeterName",
    "x_SkuMeterSubcategory",
]


def focus_row(
    provider: str,
    service: str,
    description: str,
    qty: float,
    unit: str,
    cost: float,
    team: str | None = None,
    meter: str = "",
    subcategory: str = "",
    region: str = "eastus",
) -> list:
    tags = json.dumps({"team": team}) if team else "{}"
    return [
        cost,
        "USD",
        "2025-04-01T00:00:00Z",
        "Usage",
        "",
        description,
        "2025-04-02T00:00:00Z",
        qty,
        unit,
        cost,
        provider,
        region,
        f"/subscriptions/s/{service}/{qty}",
        "Compute",
        service,
        "sub-1",
        tags,
        meter,
        subcategory,
    ]


def write_focus(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(FOCUS_COLUMNS)
        w.writerows(rows)
    return path


def test_focus_azure_and_oci_rows(tmp_path: Path) -> None:
    path = write_focus(
        tmp_path / "focus.csv",
        [
            # Azure inter-region bandwidth: 100 GB x $0.02
            focus_row(
                "Microsoft",
                "Virtual Network",
                "Bandwidth Inter-Region - Intra Continent Data Transfer Out - North America",
                100,
                "GB",
                2.0,
                "web",
            ),
            # Azure internet (routing preference): 50 GB x $0.087
            focus_row(
                "Microsoft",
                "Bandwidth",
                "Rtn Preference: MGN - Standard Data Transfer Out",
                50,
                "GB",
                4.35,
                "web",
            ),
            # Azure cross-zone: 200 GB x $0.01
            focus_row(
                "Microsoft",
                "Bandwidth",
                "Bandwidth - Inter Availability Zone Data Transfer Out",
                200,
                "GB",
                2.0,
                "web",
            ),
            # OCI internet egress: 300 GB x $0.0085
            focus_row(
                "Oracle",
                "NETWORK",
                "Outbound Data Transfer Zone 1",
                300,
                "GB",
                2.55,
                "ops",
                region="us-ashburn-1",
            ),
            # Azure N-series GPU VM: 10 h x $3.673 = $36.73, by meter and subcategory
            focus_row(
                "Microsoft",
                "Virtual Machines",
                "NC24ads A100 v4 - US East",
                10,
                "Hours",
                36.73,
                "ml",
                meter="NC24ads A100 v4",
                subcategory="NCadsA100v4 Series",
            ),
            focus_row(
                "Microsoft",
                "Virtual Machines",
                "Virtual Machines NCasT4 v3 Series - NC4as T4 v3 - US East",
                5,
                "Hours",
                2.63,
            ),  # 5 h x $0.526, untagged
            focus_row(
                "Microsoft",
                "Virtual Machines",
                "Virtual Machines Dv2/DSv2 Series - D11 v2/DS11 v2 - US East",
                5,
                "Hours",
                0.925,
                "web",
            ),  # not AI
        ],
    )
    (facts,) = read_billing([str(path)], Config()).facts
    assert facts.format_label == "FOCUS 1.0"  # ChargeClass, RegionId
    f = flows(facts)
    assert (
        f["inter_region:eastus->North America"].gb,
        f["inter_region:eastus->North America"].cost,
    ) == pytest.approx((100.0, 2.0))
    assert f["internet:eastus->internet"].cost == pytest.approx(4.35)
    assert f["inter_zone:eastus->another zone"].cost == pytest.approx(2.0)
    assert f["internet:us-ashburn-1->internet"].cost == pytest.approx(2.55)
    assert facts.ai == pytest.approx({("ml", "compute"): 36.73, (UNTAGGED, "compute"): 2.63})
