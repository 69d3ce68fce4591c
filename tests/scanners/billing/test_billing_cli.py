"""`aifinops scan --billing` end to end on the demo exports (CliRunner, JSON report)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.demo import demo_inputs, demo_window
from aifinops_cli.demo.billing import demo_billing_paths


def test_scan_billing_json_report() -> None:
    focus, cur = demo_billing_paths(demo_inputs() / "billing")
    result = CliRunner().invoke(
        app,
        ["scan", "--scanner", "billing", "--billing", focus, "--billing", cur, "--format", "json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_rule = {}
    for f in doc["findings"]:
        by_rule.setdefault(f["rule_id"], []).append(f)
    # FOCUS demo: 30 days x 400 GB x $0.02 = $240 from i-0demo0train0gpu01 (a p4d box); CUR demo:
    # 30 x 250 GB x $0.02 = $150 (a g5 box). 30 days are 30 / 30.4167 of a month (730 h / 24):
    # $240 x 30.4167 / 30 = $243.33 and $150 -> $152.08 a month. Both flows are all AI bytes: one
    # finding each, the AI-egress one (savings 243.33 x 0.8 = $194.67 and 152.08 x 0.8 = $121.67),
    # none from the inter-region rule (it used to claim the same dollars again). The inter-region
    # rule has the one non-AI flow, the Oregon web server's 30 x 250 GB x $0.02 = $150 -> $152.08
    inter = by_rule["billing-inter-region-egress"]
    assert [(f["resource_id"], f["resource_name"]) for f in inter] == [
        ("us-west-2->us-east-1 (inter-region)", "i-0demo0web01")
    ]
    assert [round(f["monthly_cost_usd"], 2) for f in inter] == [round(150 * (730 / 24) / 30, 2)]
    ai = sorted(
        (round(f["monthly_cost_usd"], 2), round(f["estimated_monthly_savings_usd"], 2))
        for f in by_rule["billing-ai-egress"]
    )
    month = (730 / 24) / 30
    assert ai == [
        (round(150 * month, 2), round(150 * month * 0.8, 2)),
        (round(240 * month, 2), round(240 * month * 0.8, 2)),
    ]
    # NAT 30 x 600 GB x $0.045 = $810 over the 30 days
    assert [round(f["monthly_cost_usd"], 2) for f in by_rule["billing-nat-processing"]] == [
        round(810 * month, 2)
    ]
    # no flow's savings exceed its cost, summed over every egress finding of the flow
    per_flow: dict[str, float] = {}
    for f in doc["findings"]:
        if f["rule_id"].startswith("billing-") and f["rule_id"] != "billing-untagged-ai-spend":
            key = f["resource_id"].split(" (")[0]
            per_flow[key] = per_flow.get(key, 0.0) + f["estimated_monthly_savings_usd"]
    assert per_flow["us-east-1->us-west-2"] == pytest.approx(240 * month * 0.8, abs=0.01)
    section = doc["analysis"]["billing"]
    start, end = demo_window()  # the 30 days before today; the FOCUS export has 25 days more
    first = start - timedelta(days=25)
    assert section["data"]["period"] == f"{first:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d}"
    assert {s["format"] for s in section["data"]["sources"]} == {"FOCUS 1.0", "AWS CUR (legacy)"}
    # FOCUS over 55 days: the template's 7 rows a day that are not Bedrock (8 less 1), 16 AI lines
    # a day (14 inference boxes, SageMaker training, the training-data bucket), 2 Bedrock models x
    # 2 token kinds a day, the web server's inter-region transfer (1 a day); CUR: 30 x 4
    assert section["summary"]["Rows read / unusable"] == f"{55 * (7 + 16 + 2 * 2 + 1) + 30 * 4} / 0"


@pytest.mark.parametrize("path", ["nope.csv"])
def test_scan_billing_missing_file_is_a_coverage_failure(path: str) -> None:
    result = CliRunner().invoke(app, ["scan", "--scanner", "billing", "--billing", path, "--format", "json"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    entries = doc["coverage"] if isinstance(doc["coverage"], list) else doc["coverage"]["scopes"]
    assert [(e["scope"], e["status"]) for e in entries] == [("nope.csv", "failed")]
