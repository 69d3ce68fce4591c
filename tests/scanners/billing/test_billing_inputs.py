"""Billing formats and broken input: CUR 2.0 as CSV, FOCUS 0.5 to 1.3, non-finite costs, coverage
counts; and how findings are owned and claimed (one flow, one charge).

Expected amounts are computed by hand from the rows each test writes.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.config import Config
from aifinops_cli.core.pipeline import run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import load_rules
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.billing.provider import BillingSettings
from aifinops_cli.scanners.billing.scanner import BillingScanner, read_billing
from tests.paths import TEST_DATA

CUR2_COLUMNS = [
    "bill_billing_period_start_date",
    "bill_payer_account_name",
    "line_item_usage_start_date",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_currency_code",
    "line_item_unblended_cost",
    "product_region_code",
    "product_to_region_code",
    "pricing_unit",
    "product",
    "resource_tags",
]


def write_cur2_csv(path: Path, rows: list[tuple]) -> Path:
    """rows: (usage type, resource, amount, cost, region, to region, unit, product map, tags map);
    the maps are written as CUR 2.0 writes them in CSV: JSON text."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CUR2_COLUMNS)
        for ut, res, amount, cost, region, to_region, unit, product, tags in rows:
            w.writerow(
                [
                    "2025-03-01T00:00:00.000Z",
                    "payer",
                    "2025-03-04T00:00:00.000Z",
                    "111122223333",
                    "Usage",
                    "AmazonEC2",
                    ut,
                    res,
                    amount,
                    "USD",
                    cost,
                    region,
                    to_region,
                    unit,
                    json.dumps(product),
                    json.dumps(tags),
                ]
            )
    return path


CUR2_ROWS = [
    # 1000 GB x $0.02 from a GPU box, team ml
    (
        "USE1-USW2-AWS-Out-Bytes",
        "i-gpu",
        1000,
        20.0,
        "us-east-1",
        "us-west-2",
        "GB",
        {"transfer_type": "InterRegion Outbound", "product_name": "Amazon Elastic Compute Cloud"},
        {"user_team": "ml"},
    ),
    # 10 h x $32.77
    (
        "USE1-BoxUsage:p4d.24xlarge",
        "i-gpu",
        10,
        327.7,
        "us-east-1",
        "",
        "Hrs",
        {"instance_type": "p4d.24xlarge"},
        {"user_team": "ml"},
    ),
    # untagged (empty map), 5 h x $1.006
    ("USE1-BoxUsage:g5.xlarge", "i-g5", 5, 5.03, "us-east-1", "", "Hrs", {"instance_type": "g5.xlarge"}, {}),
]


def test_cur2_csv_is_cur2_with_its_tags(tmp_path: Path) -> None:
    path = write_cur2_csv(tmp_path / "cur2.csv", CUR2_ROWS)
    for fmt in (None, "cur2"):  # detected, and forced (it used to fail on a type error)
        read = read_billing([str(path)], Config(), fmt_override=fmt)
        (facts,) = read.facts
        assert facts.format_label == "AWS CUR 2.0"
        assert facts.total_cost == pytest.approx(20.0 + 327.7 + 5.03)
        # tags from the JSON text: ml compute 327.7, ml transfer 20; g5 untagged 5.03
        assert facts.ai == pytest.approx(
            {("ml", "compute"): 327.7, ("ml", "data_transfer"): 20.0, ("(untagged)", "compute"): 5.03}
        )
        # untagged share 5.03 / 352.73 = 1.426% (it read 100% when the tags were lost)
        assert 100 * facts.ai_untagged / facts.ai_total == pytest.approx(100 * 5.03 / 352.73)
        (flow,) = facts.flows
        assert flow.key == "inter_region:us-east-1->us-west-2" and dict(flow.owners) == {"ml": 20.0}


def test_cur2_malformed_map_text_costs_only_the_tag(tmp_path: Path) -> None:
    path = write_cur2_csv(tmp_path / "cur2.csv", CUR2_ROWS)
    text = path.read_text(encoding="utf-8").replace('"{""user_team"": ""ml""}"', '"{""user_team"": ""ml"', 1)
    path.write_text(text, encoding="utf-8")
    (facts,) = read_billing([str(path)], Config()).facts
    # the first row's tags are cut short (`{"user_team": "ml`): its $20 has no owner, the row
    # still counts and nothing else changes
    assert facts.usable_rows == 3
    assert facts.ai == pytest.approx(
        {("ml", "compute"): 327.7, ("(untagged)", "data_transfer"): 20.0, ("(untagged)", "compute"): 5.03}
    )


def test_legacy_cur_forced_as_cur2_still_reads(tmp_path: Path) -> None:
    cur = TEST_DATA / "billing" / "cur_legacy.csv"
    (facts,) = read_billing([str(cur)], Config(), fmt_override="cur2").facts
    assert facts.total_cost == pytest.approx(3770.0)  # the same rows as detected legacy CUR
    assert facts.ai[("ml", "compute")] == pytest.approx(3577.0)  # resourceTags/user:team still read


# --- FOCUS versions -----------------------------------------------------------------------------

BASE = {
    "BilledCost": "10.5",
    "BillingCurrency": "USD",
    "BillingPeriodStart": "2025-04-01T00:00:00Z",
    "ChargePeriodStart": "2025-04-02T00:00:00Z",
    "ProviderName": "AWS",
    "ServiceName": "Amazon EC2",
    "ResourceId": "i-1",
    "ChargeDescription": "$0.09 per GB - first 10 TB / month data transfer out",
}
VERSIONS = [
    ("0.5", {"ChargeType": "Usage", "AmortizedCost": "10.5", "Region": "us-east-1"}),
    (
        "1.0-preview",
        {
            "ChargeCategory": "Usage",
            "EffectiveCost": "10.5",
            "Region": "us-east-1",
            "UsageQuantity": "116.6667",
            "UsageUnit": "GB",
        },
    ),
    (
        "1.0",
        {
            "ChargeCategory": "Usage",
            "ChargeClass": "",
            "EffectiveCost": "10.5",
            "RegionId": "us-east-1",
            "ConsumedQuantity": "116.6667",
            "ConsumedUnit": "GB",
            "BillingAccountType": "Billing Profile",
        },
    ),
    (
        "1.1",
        {
            "ChargeCategory": "Usage",
            "RegionId": "us-east-1",
            "ConsumedQuantity": "116.6667",
            "ConsumedUnit": "GB",
            "ServiceSubcategory": "Networking",
            "SkuMeter": "Data Transfer",
        },
    ),
    (
        "1.2",
        {
            "ChargeCategory": "Usage",
            "RegionId": "us-east-1",
            "ConsumedQuantity": "116.6667",
            "ConsumedUnit": "GB",
            "ServiceSubcategory": "Networking",
            "InvoiceId": "INV-1",
            "PricingCurrency": "USD",
        },
    ),
    (
        "1.3",
        {
            "ChargeCategory": "Usage",
            "RegionId": "us-east-1",
            "ConsumedQuantity": "116.6667",
            "ConsumedUnit": "GB",
            "InvoiceId": "INV-1",
            "ServiceProviderName": "AWS",
            "HostProviderName": "AWS",
        },
    ),
]


@pytest.mark.parametrize("version,extra", VERSIONS, ids=[v for v, _ in VERSIONS])
def test_focus_versions_named_and_read(tmp_path: Path, version: str, extra: dict) -> None:
    row = {**BASE, **extra}
    path = tmp_path / f"focus-{version}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    (facts,) = read_billing([str(path)], Config()).facts
    assert facts.format_label == f"FOCUS {version}"
    assert facts.total_cost == pytest.approx(10.5)
    (flow,) = facts.flows  # "data transfer out": internet, from the region column of that version
    assert flow.key == "internet:us-east-1->internet" and flow.cost == pytest.approx(10.5)
    # GB where the version has a quantity column (116.6667 GB x $0.09 = $10.50)
    assert flow.gb == pytest.approx(0.0 if version == "0.5" else 116.6667)


# --- non-finite numbers, coverage counts --------------------------------------------------------

CUR_LEGACY = TEST_DATA / "billing" / "cur_legacy.csv"


@pytest.mark.parametrize("value", ["1e400", "inf", "-Infinity", "nan"])
def test_non_finite_cost_is_an_unreadable_row(tmp_path: Path, value: str) -> None:
    path = tmp_path / "cur.csv"
    # li0's cost (USE1-USW2-AWS-Out-Bytes, $20.0) replaced: billed 3770 - 20 = 3750 remain
    path.write_text(
        CUR_LEGACY.read_text(encoding="utf-8").replace(",20.0,", f",{value},", 1), encoding="utf-8"
    )
    read = read_billing([str(path)], Config())
    (facts,) = read.facts
    assert (facts.rows, facts.usable_rows, facts.bad_cost_rows) == (9, 7, 2)  # + the "abc" row
    assert facts.total_cost == pytest.approx(3750.0)
    # rows 1 (li0) and 8 (li7, "abc"); lines 2 and 9 counting the header
    assert [(row, what) for _, row, what in facts.bad_rows] == [(1, "cost"), (8, "cost")]
    assert "cur.csv row 1, line 2 (cost), cur.csv row 8, line 9 (cost)" in read.coverage[0].message


def test_non_finite_cost_never_reaches_the_json_report(tmp_path: Path) -> None:
    path = tmp_path / "cur.csv"
    path.write_text(CUR_LEGACY.read_text(encoding="utf-8").replace(",20.0,", ",1e400,", 1), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["scan", "--scanner", "billing", "--billing", str(path), "--format", "json"]
    )

    def refuse(name: str) -> float:
        raise AssertionError(f"non-standard JSON constant {name} in the report")

    doc = json.loads(result.stdout, parse_constant=refuse)
    assert doc["analysis"]["billing"]["data"]["billed_total"] == pytest.approx(3750.0)
    (source,) = doc["analysis"]["billing"]["data"]["sources"]
    assert source["unusable_rows"]["cost_unreadable"] == 2
    assert [r["row"] for r in source["unreadable_rows_at"]] == [1, 8]


def test_non_finite_cost_in_typed_parquet(tmp_path: Path) -> None:
    """Parquet stores doubles, so inf and nan arrive typed: still no amount."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "line_item_usage_start_date": ["2025-03-01T00:00:00Z"] * 4,
            "line_item_usage_type": ["USE1-DataTransfer-Out-Bytes"] * 4,
            "line_item_usage_amount": [100.0, 100.0, 100.0, 100.0],
            "line_item_unblended_cost": [9.0, float("inf"), float("nan"), 9.0],
            "line_item_currency_code": ["USD"] * 4,
            "product_region": ["us-east-1"] * 4,
            "pricing_unit": ["GB"] * 4,
        }
    )
    pq.write_table(table, tmp_path / "cur.parquet")
    (facts,) = read_billing([str(tmp_path / "cur.parquet")], Config()).facts
    assert (facts.usable_rows, facts.bad_cost_rows) == (2, 2)
    assert facts.total_cost == pytest.approx(18.0)  # 9 + 9
    assert [(row, what) for _, row, what in facts.bad_rows] == [(2, "cost"), (3, "cost")]
    (flow,) = facts.flows
    assert (flow.gb, flow.cost) == pytest.approx((200.0, 18.0))  # the quantities of usable rows only


def test_other_currency_rows_are_counted_once(tmp_path: Path) -> None:
    """46 USD rows and 46 EUR rows: 46 unusable, not 92."""
    lines = CUR_LEGACY.read_text(encoding="utf-8").splitlines()
    header, good = lines[0], lines[3]  # li2: DataTransfer-Regional-Bytes, $5.0 USD
    rows = [good.replace("li2,", f"u{i},", 1) for i in range(46)]
    rows += [good.replace("li2,", f"e{i},", 1).replace(",USD,", ",EUR,") for i in range(46)]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    read = read_billing([str(path)], Config())
    (facts,) = read.facts
    assert (facts.rows, facts.usable_rows, facts.other_currency_rows) == (92, 46, 46)
    assert facts.total_cost == pytest.approx(46 * 5.0)  # $230 in USD
    (cov,) = read.coverage
    assert "92 rows, 46 unusable" in cov.message and cov.errors == 46


# --- one flow, one charge; owner by largest share -----------------------------------------------

HEADER = (
    "lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/ResourceId,"
    "lineItem/UsageAmount,lineItem/CurrencyCode,lineItem/UnblendedCost,product/region,"
    "product/toRegionCode,pricing/unit,resourceTags/user:team"
)


def findings_for(path: Path):
    ctx = ScanContext(
        options=ScanOptions(settings={"billing": BillingSettings(paths=[str(path)])}),
        config=Config(),
        prices=PriceCatalog(),
        now=datetime(2025, 6, 1, tzinfo=UTC),
    )
    return run_scan(ctx, [BillingScanner], load_rules()).report.findings


def test_one_flow_split_between_ai_and_class_rules(tmp_path: Path) -> None:
    """One inter-region flow, 2,500 GB at $0.02: 1,000 GB ($20) from a GPU box, 1,500 GB ($30) from
    a web box. The AI part is billing-ai-egress's, the rest the inter-region rule's; no dollar twice."""
    path = tmp_path / "cur.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                "2025-03-01T00:00:00Z,AmazonEC2,USE1-USW2-AWS-Out-Bytes,i-gpu,1000,USD,20.0,us-east-1,us-west-2,GB,ml",
                "2025-03-31T00:00:00Z,AmazonEC2,USE1-USW2-AWS-Out-Bytes,i-web,1500,USD,30.0,us-east-1,us-west-2,GB,web",
                "2025-03-01T00:00:00Z,AmazonEC2,USE1-BoxUsage:p4d.24xlarge,i-gpu,1,USD,32.77,us-east-1,,Hrs,ml",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    by_rule = {f.rule_id: f for f in findings_for(path)}
    assert set(by_rule) == {"billing-ai-egress", "billing-inter-region-egress"}
    ai, rest = by_rule["billing-ai-egress"], by_rule["billing-inter-region-egress"]
    # March 1..31 is one month: AI part $20/mo x 0.8 = $16; the rest $30/mo x 0.9 = $27
    assert (ai.monthly_cost_usd, ai.estimated_monthly_savings_usd) == pytest.approx((20.0, 16.0))
    assert (rest.monthly_cost_usd, rest.estimated_monthly_savings_usd) == pytest.approx((30.0, 27.0))
    assert ai.monthly_cost_usd + rest.monthly_cost_usd == pytest.approx(50.0)  # the flow, once
    # each part priced at its own billed rate: 1000 GB x $0.02 and 1500 GB x $0.02
    (line,) = ai.observation.cost_lines
    assert (line.quantity, line.unit_price_usd) == pytest.approx((1000.0, 0.02))
    assert ai.observation.owner == "ml" and rest.observation.owner == "web"


def test_owner_is_the_largest_share_with_the_share_in_evidence(tmp_path: Path) -> None:
    path = tmp_path / "cur.csv"
    # internet flow, $0.09/GB: untagged 990 GB ($89.10), ml 10 GB ($0.90): ml holds 1% of it
    # NAT flow, $0.045/GB: web 1400 GB ($63), data 600 GB ($27): web holds 70%
    path.write_text(
        "\n".join(
            [
                HEADER,
                "2025-03-01T00:00:00Z,AmazonEC2,USE1-DataTransfer-Out-Bytes,i-a,990,USD,89.1,us-east-1,,GB,",
                "2025-03-31T00:00:00Z,AmazonEC2,USE1-DataTransfer-Out-Bytes,i-b,10,USD,0.9,us-east-1,,GB,ml",
                "2025-03-01T00:00:00Z,AmazonEC2,USE1-NatGateway-Bytes,nat-1,1400,USD,63.0,us-east-1,,GB,web",
                "2025-03-31T00:00:00Z,AmazonEC2,USE1-NatGateway-Bytes,nat-2,600,USD,27.0,us-east-1,,GB,data",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    by_rule = {f.rule_id: f for f in findings_for(path)}
    internet, nat = by_rule["billing-internet-egress"], by_rule["billing-nat-processing"]
    assert internet.observation.owner == ""  # the largest share (99%) carries no owner tag; not ml's 1%
    assert internet.observation.metrics["owner_share_pct"] == pytest.approx(99.0)  # 89.1 / 90
    assert any("(untagged)), 99.0%" in e for e in internet.observation.evidence)
    assert nat.observation.owner == "web" and nat.observation.metrics["owner_share_pct"] == pytest.approx(
        70.0
    )  # 63 / 90
    assert any("web, 70.0% (USD 63.0000 of 90.0000)" in e for e in nat.observation.evidence)
