"""The billing statements' shortcuts give the answers of the plain queries.

Statement 2, top resources per flow: on DuckDB only the rows at or above their group's 5th
largest cost are ranked; engines that inline CTEs (Athena, BigQuery) rank every row. Both must
keep the same five resources (ties broken by resource id) and put the rest in one unnamed row.

Statement 1 groups the bare text columns and turns '' into NULL afterwards: '' and NULL in the
same column must still land in one key.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.scanners.billing.analyze import UNTAGGED, run_analysis
from aifinops_cli.scanners.billing.dialect import Dialect
from aifinops_cli.scanners.billing.formats import Mapping, detect
from aifinops_cli.scanners.billing.queries import AiPatterns
from aifinops_cli.scanners.billing.scanner import read_billing
from aifinops_cli.scanners.billing.sources import DuckDBEngine

HEADER = (
    "lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/ResourceId,"
    "lineItem/UsageAmount,lineItem/CurrencyCode,lineItem/UnblendedCost,product/region,"
    "product/toRegionCode,pricing/unit,resourceTags/user:team"
)
# one inter-region flow, team ml; GB at $0.02, so cost = GB x 0.02
EGRESS = {
    "i-gpu": 450.0,  # $9.00, also bills a GPU hour below: AI-related
    "i-a": 400.0,  # $8.00
    "i-b": 350.0,  # $7.00
    "i-c": 250.0,
    "i-d": 250.0,
    "i-e": 250.0,
    "i-f": 250.0,  # $5.00 each: a tie at the 5th place
    "i-g": 50.0,  # $1.00
    "i-h": 25.0,  # $0.50
}


class InlineDuck(Dialect):
    """DuckDB spelling, but ranking every row as the engines that inline CTEs do."""

    @property
    def shares_ctes(self) -> bool:
        return False


def write_cur(path: Path) -> Path:
    rows = [HEADER]
    for res, gb in EGRESS.items():
        # two lines per resource (two days): the query must sum them before ranking
        for day in ("01", "02"):
            rows.append(
                f"2025-03-{day}T00:00:00Z,AmazonEC2,USE1-USW2-AWS-Out-Bytes,{res},{gb / 2},USD,"
                f"{gb / 2 * 0.02},us-east-1,us-west-2,GB,ml"
            )
    rows.append(
        "2025-03-01T00:00:00Z,AmazonEC2,USE1-BoxUsage:p4d.24xlarge,i-gpu,1,USD,32.77,us-east-1,,Hrs,ml"
    )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def facts_with(dialect: Dialect, path: Path):
    engine = DuckDBEngine()
    engine.dialect = dialect
    source = engine.source("csv", [str(path)])
    schema = engine.schema(source)
    fmt, label = detect(schema)
    mapping = Mapping(fmt, label, dialect, schema, ["team"])
    try:
        return run_analysis(
            engine,
            mapping.view_sql(source),
            AiPatterns.load(),
            str(path),
            label,
            constant=mapping.constant_nulls(),
        )
    finally:
        engine.close()


def test_top_five_resources_with_a_tie_at_the_threshold(tmp_path: Path) -> None:
    path = write_cur(tmp_path / "cur_topn.csv")
    shared = facts_with(Dialect("duckdb"), path)
    inline = facts_with(InlineDuck("duckdb"), path)
    (flow,) = shared.flows
    # all 2,275 GB: 450 + 400 + 350 + 4 x 250 + 50 + 25; x $0.02 = $45.50
    assert (flow.gb, flow.cost) == pytest.approx((2275.0, 45.5))
    # i-gpu ranks alone (AI-related group); of the others the top five are i-a ($8), i-b ($7) and
    # three of the four tied at $5, by resource id: i-c, i-d, i-e; i-f, i-g, i-h are the rest
    assert sorted(flow.resources) == ["i-a", "i-b", "i-c", "i-d", "i-e", "i-gpu"]
    assert flow.resources["i-c"]["cost"] == pytest.approx(5.0)
    assert flow.resources["i-gpu"]["ai_related"] and not flow.resources["i-a"]["ai_related"]
    # AI data transfer: only i-gpu's 450 GB, $9.00
    assert (flow.ai_gb, flow.ai_cost) == pytest.approx((450.0, 9.0))
    assert shared.ai[("ml", "data_transfer")] == pytest.approx(9.0)
    # the inline form (every row ranked) gives the same figures
    (other,) = inline.flows
    assert other.resources == flow.resources
    figures = (flow.gb, flow.cost, flow.ai_gb, flow.ai_cost)
    assert (other.gb, other.cost, other.ai_gb, other.ai_cost) == figures
    assert inline.ai == shared.ai


def test_empty_text_and_null_are_one_key(tmp_path: Path) -> None:
    """Parquet keeps '' apart from NULL; the view treats both as missing."""
    out, ir = "USE1-DataTransfer-Out-Bytes", "USE1-USW2-AWS-Out-Bytes"
    table = pa.table(
        {
            "line_item_usage_start_date": pa.array(["2025-03-01T00:00:00Z"] * 5),
            "line_item_product_code": ["AmazonEC2"] * 5,
            "line_item_usage_type": [out, out, ir, ir, "USE1-BoxUsage:m5.xlarge"],
            "line_item_resource_id": ["i-1", "i-2", "i-3", "i-4", "i-5"],
            "line_item_usage_amount": [100.0, 200.0, 300.0, 400.0, 10.0],
            "line_item_unblended_cost": [9.0, 18.0, 6.0, 8.0, 1.92],
            "line_item_currency_code": ["USD", "", "USD", None, "USD"],
            "product_region": ["us-east-1"] * 5,
            "product_to_region_code": ["", None, "", None, None],
            "pricing_unit": ["GB", "GB", "GB", "GB", "Hrs"],
            "resource_tags_user_team": ["", None, "web", "web", ""],
        }
    )
    path = tmp_path / "cur_blanks.parquet"
    pq.write_table(table, path)
    (facts,) = read_billing([str(path)], Config()).facts
    # '' and NULL currency are both 'unknown' (2 rows); USD has 3
    assert facts.currency == "USD" and facts.currencies["unknown"]["rows"] == 2
    f = {fl.key: fl for fl in facts.flows}
    assert set(f) == {"internet:us-east-1->internet", "inter_region:us-east-1->us-west-2"}
    internet = f["internet:us-east-1->internet"]  # i-1 only: 100 GB, $9.00, '' owner is untagged
    assert (internet.gb, internet.cost) == pytest.approx((100.0, 9.0))
    assert dict(internet.owners) == {UNTAGGED: pytest.approx(9.0)}
    # i-3: a '' destination column is missing, so the route comes from the usage type (USW2)
    west = f["inter_region:us-east-1->us-west-2"]
    assert (west.gb, west.cost) == pytest.approx((300.0, 6.0)) and list(west.resources) == ["i-3"]
    assert facts.total_cost == pytest.approx(9.0 + 6.0 + 1.92)
