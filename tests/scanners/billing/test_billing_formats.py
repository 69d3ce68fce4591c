"""Billing scanner on small exports in each format's exact column layout, and the real FOCUS sample.

Every expected figure is worked out by hand from the rows in tests/data (see the comments).
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.pipeline import run_scan
from aifinops_cli.core.plugin import ScanContext, ScanOptions
from aifinops_cli.core.rules import load_rules
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.billing.provider import BillingSettings
from aifinops_cli.scanners.billing.scanner import BillingScanner, read_billing
from tests.paths import TEST_DATA

DATA = TEST_DATA
FOCUS = DATA / "focus-1.0" / "focus_sample.csv"
CUR = DATA / "billing" / "cur_legacy.csv"
CUR2 = DATA / "billing" / "cur2.parquet"
GCP = DATA / "billing" / "gcp_export.json"


def flows(facts):
    return {f.key: f for f in facts.flows}


def scan(paths, config=None):
    flags = BillingSettings(paths=[str(p) for p in paths])
    ctx = ScanContext(
        options=ScanOptions(settings={"billing": flags}),
        config=config or Config(),
        prices=PriceCatalog(),
        now=datetime(2025, 6, 1, tzinfo=UTC),
    )
    return BillingScanner(ctx).scan()


def test_legacy_cur_csv_flows_owners_and_bad_row() -> None:
    read = read_billing([str(CUR)], Config())
    (facts,) = read.facts
    assert facts.format_label == "AWS CUR (legacy)"
    # 9 rows; the m5.large row's cost is "abc": unusable, counted, not dropped silently
    assert (facts.rows, facts.usable_rows, facts.bad_cost_rows) == (9, 8, 1)
    assert read.coverage[0].status == "partial" and "unreadable cost" in read.coverage[0].message
    # billed: 20 + 3277 + 5 + 9 + 9 + 150 + 0 + 300 = 3770; March 1..31 = one whole month
    assert facts.total_cost == pytest.approx(3770.0)
    assert facts.months_covered == 1.0
    f = flows(facts)
    ir = f["inter_region:us-east-1->us-west-2"]  # USE1-USW2-AWS-Out-Bytes: 1000 GB x $0.02 = $20
    assert (ir.gb, ir.cost) == pytest.approx((1000.0, 20.0))
    # i-gpu1 also bills p4d.24xlarge hours, so its transfer is AI-related
    assert (ir.ai_gb, ir.ai_cost) == pytest.approx((1000.0, 20.0))
    assert list(ir.resources) == ["i-gpu1"] and dict(ir.owners) == {"ml": 20.0}
    assert (
        f["inter_zone:us-east-1->another zone"].gb,
        f["inter_zone:us-east-1->another zone"].cost,
    ) == pytest.approx((500.0, 5.0))  # DataTransfer-Regional-Bytes 500 GB x $0.01
    assert (f["internet:us-east-1->internet"].gb, f["internet:us-east-1->internet"].cost) == pytest.approx(
        (100.0, 9.0)
    )  # DataTransfer-Out-Bytes 100 GB x $0.09
    assert (f["nat:us-east-1->NAT gateway"].gb, f["nat:us-east-1->NAT gateway"].cost) == pytest.approx(
        (200.0, 9.0)
    )  # NatGateway-Bytes 200 GB x $0.045
    assert "inbound" in facts.by_class and facts.by_class["inbound"]["cost"] == 0.0  # In-Bytes: free
    # AI path: ml compute = p4d $3277 + SageMaker ml.g5 $300 = $3577; ml transfer $20;
    # Bedrock tokens $150 carry no tag -> untagged model APIs
    assert facts.ai == pytest.approx(
        {("ml", "compute"): 3577.0, ("ml", "data_transfer"): 20.0, ("(untagged)", "model_api"): 150.0}
    )
    # untagged share = 150 / (3577 + 20 + 150) = 150 / 3747 = 4.0032%
    assert 100 * facts.ai_untagged / facts.ai_total == pytest.approx(4.00320, abs=1e-4)


def test_cur2_parquet_product_and_resource_tags_maps() -> None:
    (facts,) = read_billing([str(CUR2)], Config()).facts
    assert facts.format_label == "AWS CUR 2.0"
    assert facts.total_cost == pytest.approx(128.0)  # 5 + 121.2 + 1.8
    f = flows(facts)
    ir = f["inter_region:eu-central-1->us-east-1"]  # EUC1-USE1-AWS-Out-Bytes 250 GB, $5
    assert (ir.gb, ir.cost, ir.ai_cost) == pytest.approx((250.0, 5.0, 5.0))  # i-a runs a g5 GPU
    assert dict(ir.owners) == {"search": 5.0}  # resource_tags['user_team']
    assert (f["nat:eu-central-1->NAT gateway"].gb, f["nat:eu-central-1->NAT gateway"].cost) == pytest.approx(
        (40.0, 1.8)
    )
    assert facts.ai == pytest.approx({("search", "compute"): 121.2, ("search", "data_transfer"): 5.0})


def test_gcp_export_net_of_credits_and_labels() -> None:
    (facts,) = read_billing([str(GCP)], Config()).facts
    assert facts.format_label == "Google Cloud billing export"
    # net = cost + credits: (24 - 4) + (500 - 100) + 6 + 1 = 427
    assert facts.total_cost == pytest.approx(427.0)
    f = flows(facts)
    ir = f["inter_region:us-central1->EMEA"]  # "Inter Region ... from Americas to EMEA", 300 GiB
    assert (ir.gb, ir.cost) == pytest.approx((300.0, 20.0))
    assert dict(ir.owners) == {"vision": 20.0}  # labels [{key: team, value: vision}]
    assert (
        f["internet:us-central1->internet"].gb,
        f["internet:us-central1->internet"].cost,
    ) == pytest.approx((50.0, 6.0))
    iz = f["inter_zone:us-central1->another zone"]
    assert (iz.gb, iz.cost) == pytest.approx((100.0, 1.0))
    assert dict(iz.owners) == {"vision": 1.0}  # label key " Team": case and spaces ignored
    assert facts.ai == pytest.approx({("(untagged)", "compute"): 400.0})  # Vertex AI A100, net


def test_real_focus_sample() -> None:
    config = Config(owner_tag_keys=["org"])
    (facts,) = read_billing([str(FOCUS)], config).facts
    assert facts.format_label == "FOCUS 1.0"
    assert (facts.rows, facts.usable_rows) == (1000, 1000)  # literal NULLs and zone-less dates parse
    assert facts.period == "2024-09-01 to 2024-09-30" and facts.months_covered == 1.0
    assert facts.effective_zero_rows == 610  # EffectiveCost 0 beside BilledCost > 0: BilledCost used
    assert facts.total_cost == pytest.approx(20.520226729, abs=1e-8)
    f = flows(facts)
    # Route from ChargeDescription "$0.02 per GB - US West (Oregon) data transfer to US East (Northern
    # Virginia)": EC2 0.055200548 + ELB 0.1788694235 + ECS 0.0002535889 + S3 0.0000114134 GB
    # = 0.2343349738 GB; $0.0011040111 + 0.0035773884 + 0.0000050718 + 0.0000002284 = $0.0046866997
    ir = f["inter_region:us-west-2->us-east-1"]
    assert ir.gb == pytest.approx(0.2343349738, abs=1e-10)
    assert ir.cost == pytest.approx(0.0046866997, abs=1e-10)
    # "$0.045 per GB Data Processed by NAT Gateways" in us-west-2: 0.0469040983 GB total over 4 rows,
    # of which one row (3.4e-9 $) is us-east-1
    nat = f["nat:us-west-2->NAT gateway"]
    assert nat.cost == pytest.approx(0.0021106811, abs=1e-10)
    assert facts.by_class["nat"]["cost"] == pytest.approx(0.0021106845, abs=1e-10)
    # inbound ("data transfer from", "data transfer in") is not egress, whatever it weighs
    assert facts.by_class["inbound"]["cost"] == 0.0
    assert facts.by_class["inbound"]["gb"] == pytest.approx(79.10718302, abs=1e-6)
    # messy tag keys: the Azure rows tag " org": "trey" (leading space) and still get an owner
    assert dict(f["internet:eastus->internet"].owners) == {"trey": pytest.approx(3.702e-07)}
    # AI compute: g5.4xlarge $10.203682944 + g3.4xlarge $1.92280038 untagged (from the description);
    # Azure ML lines: -0.149 - 0.01288992 - 0.00000764078 + 0.005 (untagged) and 0.005 (trey)
    assert facts.ai[("(untagged)", "compute")] == pytest.approx(
        10.203682944 + 1.92280038 - 0.149 - 0.01288992 - 0.00000764078 + 0.005, abs=1e-8
    )
    assert facts.ai[("trey", "compute")] == pytest.approx(0.005)


def test_scanner_observations_rules_and_analysis() -> None:
    result = scan([CUR, CUR2])
    kinds = sorted({o.kind for o in result.observations})
    assert kinds == ["billing.egress_flow", "billing.untagged_ai_spend"]
    obs = next(o for o in result.observations if o.id == "us-east-1->us-west-2 (inter-region)")
    assert obs.metrics["gb_per_month"] == 1000.0 and obs.metrics["cost_per_month"] == 20.0
    assert obs.metrics["ai_related"] == 1.0 and obs.owner == "ml"
    (line,) = obs.cost_lines  # the bill's own price: $20 / 1000 GB = $0.02 per GB
    assert (line.unit, line.unit_price_usd, line.quantity, line.monthly_usd) == ("GB", 0.02, 1000.0, 20.0)
    assert line.source == f"billing:{CUR}" and line.price_date == "2025-03-01 to 2025-03-31"
    rules = load_rules()
    ctx = ScanContext(
        options=ScanOptions(settings={"billing": BillingSettings(paths=[str(CUR)])}),
        config=Config(),
        prices=PriceCatalog(),
        now=datetime(2025, 6, 1, tzinfo=UTC),
    )
    report = run_scan(ctx, [BillingScanner], rules).report
    ids = sorted(f.rule_id for f in report.findings)
    # the $20/mo inter-region flow is all i-gpu1's (a GPU box): its one finding is the AI-egress
    # one ($20 >= $10), the inter-region rule does not claim it again; NAT $9 < $10; internet
    # $9 < $50; untagged AI share 4.0% <= 10%
    assert ids == ["billing-ai-egress"]
    (finding,) = report.findings
    assert finding.estimated_monthly_savings_usd == pytest.approx(16.0)  # 20 x 0.8
    section = report.analysis["billing"]
    assert section["data"]["billed_total"] == pytest.approx(3770.0)
    assert section["data"]["egress"] == pytest.approx({"gb": 1800.0, "cost": 43.0})  # 1000+500+100+200
    assert section["summary"]["Rows read / unusable"] == "9 / 1"


def test_gzip_dir_glob_and_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with open(CUR, "rb") as src, gzip.open(tmp_path / "sub" / "cur.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (tmp_path / "sub" / "notes.csv").write_text("a,b\n1,2\n")
    text = CUR.read_text()
    (tmp_path / "truncated.csv").write_text(text[: text.index("i-web1", text.index("Regional")) + 3])
    read = read_billing(
        [str(tmp_path / "sub"), str(tmp_path / "*.csv"), str(tmp_path / "missing.csv")], Config()
    )
    by_scope = {c.scope: c for c in read.coverage}
    assert by_scope[str(tmp_path / "sub" / "notes.csv")].status == "failed"
    notes = by_scope[str(tmp_path / "sub" / "notes.csv")]
    assert "not a FOCUS, AWS CUR or GCP billing export" in notes.message
    assert by_scope[str(tmp_path / "missing.csv")].status == "failed"
    # the gzipped CUR and the truncated one: grouped as one CUR input, the cut row counted unusable
    (facts,) = read.facts
    assert facts.rows == 9 + 3 and facts.usable_rows == 8 + 2


def test_mixed_currencies_are_flagged(tmp_path: Path) -> None:
    lines = CUR.read_text().splitlines()
    lines[2] = lines[2].replace(",USD,", ",EUR,")  # the p4d row in EUR
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    read = read_billing([str(path)], Config())
    (facts,) = read.facts
    assert facts.currency == "USD" and facts.other_currency_rows == 1
    assert facts.total_cost == pytest.approx(3770.0 - 3277.0)
    assert read.coverage[0].status == "partial" and "mixed currencies" in read.coverage[0].message


def test_analysis_is_json_serialisable() -> None:
    result = scan([FOCUS, GCP])
    json.dumps(result.analysis["billing"])
    assert {c.status for c in result.coverage} == {"ok"}


def test_one_usage_type_two_routes_keeps_resources_apart(tmp_path: Path) -> None:
    """Statement 2 groups by the fewest key columns that still tell keys apart: here one usage
    type leaves for two regions (told apart by product/toRegionCode), so each flow keeps its own
    resource rather than both being merged under the usage type."""
    lines = CUR.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1]  # li0: USE1-USW2-AWS-Out-Bytes, i-gpu1, 1000 GB, $20, to us-west-2
    second = (
        first.replace("li0,", "li9,")
        .replace("i-gpu1", "i-etl2")
        .replace(",1000,", ",500,")
        .replace(",20.0,", ",10.0,")
        .replace("us-west-2", "eu-west-1")
        .replace(",ml", ",data")
    )
    path = tmp_path / "cur_two_routes.csv"
    path.write_text("\n".join([header, first, second]) + "\n", encoding="utf-8")
    (facts,) = read_billing([str(path)], Config()).facts
    f = flows(facts)
    west, eu = f["inter_region:us-east-1->us-west-2"], f["inter_region:us-east-1->eu-west-1"]
    assert (west.gb, west.cost) == pytest.approx((1000.0, 20.0)) and list(west.resources) == ["i-gpu1"]
    # 500 GB x $0.02 = $10, from i-etl2 owned by team data
    assert (eu.gb, eu.cost) == pytest.approx((500.0, 10.0)) and list(eu.resources) == ["i-etl2"]
    assert dict(eu.owners) == {"data": pytest.approx(10.0)}
