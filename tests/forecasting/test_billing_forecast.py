"""`aifinops forecast` end to end: a CUR file with usage, a recurring RI fee and a one-time
Savings Plan fee; the demo; LLM logs."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.config import Config
from aifinops_cli.demo import forecast as demo
from aifinops_cli.forecasting.charges import ONE_TIME, RECURRING, USAGE
from aifinops_cli.scanners.billing.series import read_daily

HEADER = (
    "lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/LineItemType,"
    "lineItem/UnblendedCost,lineItem/CurrencyCode,resourceTags/user:team\n"
)


def cur_file(tmp_path: Path) -> Path:
    # Mar 1 - Apr 9 2025 (40 days): $24/day of EC2 usage for team ml; a $300 RIFee on Mar 1
    # and Apr 1; a $1,000 SavingsPlanUpfrontFee on Mar 5; one line with no cost
    lines = [
        f"{(date(2025, 3, 1) + timedelta(days=i)).isoformat()}T00:00:00Z,AmazonEC2,"
        f"USE1-BoxUsage:m5.large,Usage,24.0,USD,ml\n"
        for i in range(40)
    ]
    lines += [
        f"2025-0{mo}-01T00:00:00Z,AmazonEC2,USE1-HeavyUsage:m5.large,RIFee,300.0,USD,ml\n" for mo in (3, 4)
    ]
    lines += [
        "2025-03-05T00:00:00Z,ComputeSavingsPlans,ComputeSP:1yrAllUpfront,SavingsPlanUpfrontFee,"
        "1000.0,USD,ml\n",
        "2025-03-06T00:00:00Z,AmazonEC2,USE1-BoxUsage:m5.large,Usage,,USD,ml\n",
    ]
    path = tmp_path / "cur.csv"
    path.write_text(HEADER + "".join(lines))
    return path


def test_charge_kinds_from_line_item_types(tmp_path: Path) -> None:
    read = read_daily([str(cur_file(tmp_path))], Config())
    kinds = {(r.kind, r.service): 0.0 for r in read.rows}
    for r in read.rows:
        kinds[(r.kind, r.service)] += r.cost
    # usage 40 x 24 = 960; RIFee 2 x 300 = 600 recurring; the upfront fee 1,000 one-time
    assert kinds == {
        (USAGE, "AmazonEC2"): pytest.approx(960.0),
        (RECURRING, "AmazonEC2"): 600.0,
        (ONE_TIME, "ComputeSavingsPlans"): 1000.0,
    }
    (cov,) = read.coverage
    assert cov.status == "partial" and cov.errors == 1 and "44 rows" in cov.message


def test_forecast_cli_json_with_recurring_and_one_time(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["forecast", "--billing", str(cur_file(tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    total = doc["forecasts"][0]
    ec2 = next(f for f in doc["forecasts"] if f["service"] == "AmazonEC2")
    # as of Apr 9: month to date = 9 x 24 usage + the April RIFee 300 = 516; the flat usage is
    # carried forward exactly: month end = 516 + 21 x 24 = 1,020; May = 31 x 24 + 300 = 1,044
    # (the RI fee once, on May 1, not smeared over the days; the upfront fee not repeated)
    assert ec2["month_to_date"] == 516.0 and ec2["recurring_month_to_date"] == 300.0
    assert ec2["month_end"]["forecast"] == 1020.0
    assert ec2["next_month"]["forecast"] == 1044.0 and ec2["recurring_in_next_month"] == 300.0
    assert total["next_month"]["forecast"] == 1044.0
    # 40 days cannot replay a 52-day horizon (21 days + May): no backtest, said so
    assert ec2["status"] == "unreliable" and "too little history" in ec2["reason"]
    sp = next(f for f in doc["forecasts"] if f["service"] == "ComputeSavingsPlans")
    assert sp["next_month"] is None and "one-time" in sp["reason"]
    assert doc["anomalies"] == []
    table = CliRunner().invoke(app, ["forecast", "--billing", str(cur_file(tmp_path))])
    assert table.exit_code == 0 and "1,044" in table.stdout


def test_as_of_cuts_the_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["forecast", "--billing", str(cur_file(tmp_path)), "--format", "json", "--as-of", "2025-03-31"]
    )
    assert result.exit_code == 0, result.output
    ec2 = next(f for f in json.loads(result.stdout)["forecasts"] if f["service"] == "AmazonEC2")
    # as of Mar 31: March = 31 x 24 + the March RIFee 300 = 1,044 (the month is over);
    # April = 30 x 24 + 300 = 1,020
    assert ec2["as_of"] == "2025-03-31" and ec2["month_end"]["forecast"] == 1044.0
    assert ec2["next_month"]["forecast"] == 1020.0
    bad = CliRunner().invoke(app, ["forecast", "--demo", "--as-of", "March"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_forecast_demo_json() -> None:
    result = CliRunner().invoke(app, ["forecast", "--demo", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    total = doc["forecasts"][0]
    # the forecast ends where the scan demo's window does: its last day is yesterday (or the day
    # before, see demo.demo_window)
    first, last = demo.window_days()
    assert total["as_of"] == last.isoformat() and len(total["next_month"]["backtests"]) == 4
    platform = next(f for f in doc["forecasts"] if f["service"] == "AWS Support (Business)")
    # the $1,500 fee billed on the 1st: once next month, nothing more this month
    assert platform["recurring_in_next_month"] == 1500.0 and platform["month_end"]["forecast"] == 1500.0
    (owner,) = [a for a in doc["anomalies"] if a["evidence"]["dimension"] == "owner"]
    # the planted spike: ml-research's two billed days, summed from the demo's own rows
    days = tuple(d.isoformat() for d in demo.spike_days())
    spent = sum(
        float(r["BilledCost"])
        for r in demo.rows()
        if '"ml-research"' in r["Tags"] and r["ChargePeriodStart"][:10] in days
    )
    ev = owner["evidence"]
    assert (ev["value"], ev["started"], ev["ongoing"]) == ("ml-research", days[0], False)
    assert ev["actual_usd"] == pytest.approx(spent, abs=0.01)
    # the spike is SageMaker's alone (5x its usual hours): of ml-research's two days, the
    # SageMaker part above its usual level (4/5 of it) is above expected, the rest was expected
    sagemaker = sum(
        float(r["BilledCost"])
        for r in demo.rows()
        if '"ml-research"' in r["Tags"]
        and r["ChargePeriodStart"][:10] in days
        and r["ServiceName"] == "Amazon SageMaker"
    )
    assert owner["dollars_above_expected"] == pytest.approx(sagemaker * 0.8, rel=0.1)
    # the forecast's last 30 days are the scan demo's billing export over those days, summed
    from aifinops_cli.demo import demo_inputs
    from aifinops_cli.demo.billing import demo_billing_paths

    with open(demo_billing_paths(demo_inputs() / "billing")[0], encoding="utf-8") as fh:
        billed = sum(
            float(r["BilledCost"])
            for r in csv.DictReader(fh)
            if first.isoformat() <= r["ChargePeriodStart"][:10] <= last.isoformat()
        )
    recent = sum(
        float(r["BilledCost"])
        for r in demo.rows()
        if first.isoformat() <= r["ChargePeriodStart"][:10] <= last.isoformat()
        and r["ChargeCategory"] == "Usage"
    )
    assert recent == pytest.approx(billed, abs=0.05)


def test_anomaly_threshold_from_the_rule_params() -> None:
    # the demo's spike is ~$10,000 above expected: a $100,000 floor set on the command line
    # (rules/anomaly.yaml's min_excess_usd) silences it; an unknown parameter is a usage error
    quiet = CliRunner().invoke(app, ["forecast", "--demo", "--format", "json", "--no-anomalies"])
    assert json.loads(quiet.stdout)["anomalies"] == []
    high = CliRunner().invoke(
        app,
        ["forecast", "--demo", "--format", "json", "--set", "billing-spend-anomaly.min_excess_usd=100000"],
    )
    assert high.exit_code == 0 and json.loads(high.stdout)["anomalies"] == []
    bad = CliRunner().invoke(app, ["forecast", "--demo", "--set", "billing-spend-anomaly.nope=1"])
    assert bad.exit_code == 2 and "unknown parameter" in bad.output


def test_forecast_llm_logs(tmp_path: Path) -> None:
    """Two of the demo's logs, whose dollars are plain to add up: LiteLLM's spend log carries
    each request's `spend`, and the plain usage CSV is all gpt-4o at genai-prices' $2.50 in /
    $10 out per 1M tokens (no cached tokens)."""
    from aifinops_cli.demo import demo_inputs

    logs = demo_inputs() / "llm"
    litellm, plain = logs / "litellm-spend-logs.csv", logs / "usage-plain.csv"
    args = ["forecast", "--llm-logs", str(litellm), "--llm-logs", str(plain), "--by", "owner"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_day: dict[str, float] = {}
    with litellm.open(newline="") as fh:
        for row in csv.DictReader(fh):
            by_day[row["startTime"][:10]] = by_day.get(row["startTime"][:10], 0.0) + float(row["spend"])
    with plain.open(newline="") as fh:
        for row in csv.DictReader(fh):
            assert row["model"] == "gpt-4o" and row["cached_input_tokens"] == "0"
            cost = (int(row["input_tokens"]) * 2.50 + int(row["output_tokens"]) * 10.0) / 1e6
            by_day[row["timestamp"][:10]] = by_day.get(row["timestamp"][:10], 0.0) + cost
    last = max(by_day)
    mtd = sum(v for day, v in by_day.items() if day[:7] == last[:7])
    assert doc["forecasts"][0]["as_of"] == last
    assert doc["forecasts"][0]["month_to_date"] == pytest.approx(mtd, abs=0.01)
    # LiteLLM's team_id (platform, growth), the CSV's team column (finance)
    assert {f["owner"] for f in doc["forecasts"][1:]} >= {"platform", "growth", "finance"}


def test_nothing_to_forecast_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["forecast"])
    assert result.exit_code == 2 and "nothing to forecast" in result.output
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    missing = str(tmp_path / "none.csv")
    unread = CliRunner().invoke(app, ["forecast", "--billing", str(other), "--billing", missing])
    assert unread.exit_code == 3 and "Traceback" not in unread.output
    assert "not a FOCUS, AWS CUR or GCP billing export" in unread.output and "no such file" in unread.output
