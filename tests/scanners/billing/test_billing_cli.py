"""`aifinops scan --billing` end to end on the demo exports (CliRunner, JSON report)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.demo.billing import demo_billing_paths


def test_scan_billing_json_report() -> None:
    focus, cur = demo_billing_paths()
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
    # 30 x 250 GB x $0.02 = $150 (a g5 box). Both flows are all AI bytes: one finding each, the
    # AI-egress one (savings 240 x 0.8 = $192 and 150 x 0.8 = $120), none from the inter-region
    # rule (it used to claim the same dollars again: $216 + $192 = $408 on the $240 flow)
    assert "billing-inter-region-egress" not in by_rule
    ai = sorted(
        (round(f["monthly_cost_usd"], 2), round(f["estimated_monthly_savings_usd"], 2))
        for f in by_rule["billing-ai-egress"]
    )
    assert ai == [(150.0, 120.0), (240.0, 192.0)]
    # NAT 30 x 600 GB x $0.045 = $810
    assert [round(f["monthly_cost_usd"], 2) for f in by_rule["billing-nat-processing"]] == [810.0]
    # no flow's savings exceed its cost, summed over every egress finding of the flow
    per_flow: dict[str, float] = {}
    for f in doc["findings"]:
        if f["rule_id"].startswith("billing-") and f["rule_id"] != "billing-untagged-ai-spend":
            key = f["resource_id"].split(" (")[0]
            per_flow[key] = per_flow.get(key, 0.0) + f["estimated_monthly_savings_usd"]
    assert per_flow["us-east-1->us-west-2"] == pytest.approx(192.0)
    section = doc["analysis"]["billing"]
    assert section["data"]["period"] == "2025-06-01 to 2025-06-30"
    assert {s["format"] for s in section["data"]["sources"]} == {"FOCUS 1.0", "AWS CUR (legacy)"}
    assert section["summary"]["Rows read / unusable"] == "360 / 0"  # 30 x 8 + 30 x 4


@pytest.mark.parametrize("path", ["nope.csv"])
def test_scan_billing_missing_file_is_a_coverage_failure(path: str) -> None:
    result = CliRunner().invoke(app, ["scan", "--scanner", "billing", "--billing", path, "--format", "json"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    entries = doc["coverage"] if isinstance(doc["coverage"], list) else doc["coverage"]["scopes"]
    assert [(e["scope"], e["status"]) for e in entries] == [("nope.csv", "failed")]
