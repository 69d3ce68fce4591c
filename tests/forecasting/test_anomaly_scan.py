"""Spend anomalies as findings of `aifinops scan`: through the CLI, the real scanners and rules.

The billing export is a legacy CUR CSV in AWS's own column layout (`lineItem/LineItemType`,
`lineItem/UsageStartDate`, `resourceTags/user:team`); the LLM logs are request/response
records with OpenAI usage blocks, priced from the genai-prices catalog (gpt-4o: $2.50 per 1M
input tokens).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.exitcodes import ExitCode
from tests.llm_helpers import write_jsonl
from tests.paths import ROOT

CUR_COLUMNS = [
    "identity/LineItemId",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "product/region",
    "pricing/unit",
    "resourceTags/user:team",
]
START = date(2025, 1, 15)
DAYS = 90  # 2025-01-15 to 2025-04-14; the detection window is the last 14 days, Apr 1 to 14
WEEK = [120.0, 120.0, 110.0, 110.0, 100.0, 60.0, 60.0]  # team ml's pattern by day index % 7
RI_FEE = 300.0  # team web's reservation fee on the 1st of each month (RIFee): expected, not an anomaly


def write_cur(path: Path, spike: tuple[int, int] | None = None) -> Path:
    """Team ml on SageMaker at its weekly pattern (5x on days spike[0]..spike[1]-1), team web on
    EC2 at $200 a day plus its monthly RIFee."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CUR_COLUMNS)
        for i in range(DAYS):
            d = START + timedelta(days=i)
            ts = f"{d.isoformat()}T00:00:00Z"
            period = f"{d.replace(day=1).isoformat()}T00:00:00Z"
            ml = WEEK[i % 7] * (5.0 if spike and spike[0] <= i < spike[1] else 1.0)
            w.writerow(
                [
                    f"a{i}",
                    period,
                    "111122223333",
                    "Usage",
                    ts,
                    "AmazonSageMaker",
                    "USE1-ml.g5.xlarge-Hosting:ml",
                    24,
                    "USD",
                    ml,
                    "us-east-1",
                    "Hrs",
                    "ml",
                ]
            )
            w.writerow(
                [
                    f"b{i}",
                    period,
                    "111122223333",
                    "Usage",
                    ts,
                    "AmazonEC2",
                    "USE1-BoxUsage:m5.4xlarge",
                    24,
                    "USD",
                    200.0,
                    "us-east-1",
                    "Hrs",
                    "web",
                ]
            )
            if d.day == 1:
                w.writerow(
                    [
                        f"c{i}",
                        period,
                        "111122223333",
                        "RIFee",
                        ts,
                        "AmazonEC2",
                        "USE1-HeavyUsage:m5.4xlarge",
                        720,
                        "USD",
                        RI_FEE,
                        "us-east-1",
                        "Hrs",
                        "web",
                    ]
                )
    return path


def scan_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["scan", *args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def anomalies(doc: dict) -> list[dict]:
    return [f for f in doc["findings"] if f["category"] == "anomaly"]


def test_planted_two_day_spike_in_a_cur_is_a_finding_with_its_dollars(tmp_path: Path) -> None:
    # days 80 and 81 are 2025-04-05 and 2025-04-06, day indexes 80 % 7 = 3 ($110) and 81 % 7 = 4 ($100)
    cur = str(write_cur(tmp_path / "cur.csv", spike=(80, 82)))
    _, doc = scan_json("--scanner", "billing", "--billing", cur)
    found = {(f["evidence"]["dimension"], f["evidence"]["value"]): f for f in anomalies(doc)}
    # the same spike seen by owner and by service; team web's RIFee on Apr 1 ($300 on a $200 day)
    # is a recurring charge, left out of the series: no anomaly for web or EC2
    assert set(found) == {("owner", "ml"), ("service", "AmazonSageMaker")}
    f = found[("owner", "ml")]
    assert f["rule_id"] == "billing-spend-anomaly" and f["severity"] == "low"  # < $1,000
    # actual 5 x (110 + 100) = 1,050; expected 110 + 100 = 210; above expected 1,050 - 210 = 840
    assert f["evidence"]["actual_usd"] == pytest.approx(1050.0)
    assert f["evidence"]["expected_usd"] == pytest.approx(210.0, rel=0.02)
    assert f["monthly_cost_usd"] == pytest.approx(840.0, rel=0.01)
    assert f["evidence"]["started"] == "2025-04-05" and f["evidence"]["last"] == "2025-04-06"
    assert f["evidence"]["ongoing"] is False and f["owner"] == "ml"
    # an alert, not waste: savings 0, so the fragmentation tax is what the other findings save
    assert f["estimated_monthly_savings_usd"] == 0.0
    summary = doc["summary"]
    others = sum(
        x["estimated_monthly_savings_usd"]
        for x in doc["findings"]
        if x["category"] != "anomaly" and not x.get("overlaps")
    )
    assert summary["monthly_waste_usd"] == pytest.approx(others)
    assert summary["by_category"]["anomaly"] == 0.0
    assert summary["monthly_cost_of_flagged_resources_usd"] >= 2 * 840 * 0.99


def test_anomaly_findings_trip_fail_on_and_a_baseline_quiets_them(tmp_path: Path) -> None:
    cur = str(write_cur(tmp_path / "cur.csv", spike=(80, 82)))
    code, doc = scan_json("--scanner", "billing", "--billing", cur, "--fail-on", "low")
    assert code == ExitCode.FINDINGS and anomalies(doc)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(doc))
    code, again = scan_json(
        "--scanner", "billing", "--billing", cur, "--fail-on", "low", "--baseline", str(baseline)
    )
    assert code == ExitCode.OK
    assert {f["status"] for f in anomalies(again)} == {"known"}


def test_thresholds_come_from_the_rule(tmp_path: Path) -> None:
    cur = str(write_cur(tmp_path / "cur.csv", spike=(80, 82)))
    # each spike day is 4 x 110 = $440 and 4 x 100 = $400 above expected: a $500 floor drops both
    _, doc = scan_json(
        "--scanner", "billing", "--billing", cur, "--set", "billing-spend-anomaly.min_excess_usd=500"
    )
    assert anomalies(doc) == []


def test_steady_weekly_bill_has_no_anomaly(tmp_path: Path) -> None:
    _, doc = scan_json("--scanner", "billing", "--billing", str(write_cur(tmp_path / "cur.csv")))
    assert anomalies(doc) == []
    assert not [c for c in doc["coverage"]["scopes"] if c["scope"] == "spend anomalies"]


def test_short_export_is_not_checked(tmp_path: Path) -> None:
    # 28 + 14 = 42 days are needed; the demo-sized 30-day export skips the daily pass silently
    path = write_cur(tmp_path / "cur.csv", spike=(80, 82))
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:61]) + "\n")  # header + 30 days of two lines (+ one RIFee)
    _, doc = scan_json("--scanner", "billing", "--billing", str(path))
    assert anomalies(doc) == []


def llm_logs(path: Path) -> Path:
    """7 days of hourly gpt-4o traffic of team support: 12 requests an hour from 09:00 to 17:59,
    8 otherwise, each 100,000 input tokens (100,000 x $2.50 / 1M = $0.25): $3 and $2 an hour.
    On the last day, 10:00 and 11:00 carry 120 requests each ($30 an hour)."""
    t0 = datetime(2026, 10, 1)
    recs = []
    for h in range(24 * 7):
        n = 12 if 9 <= h % 24 < 18 else 8
        if h in (24 * 6 + 10, 24 * 6 + 11):
            n = 120
        for k in range(n):
            ts = (t0 + timedelta(hours=h, seconds=k * 29)).strftime("%Y-%m-%dT%H:%M:%SZ")
            recs.append(
                {
                    "timestamp": ts,
                    "metadata": {"team": "support", "app": "triage"},
                    "request": {
                        "model": "gpt-4o",
                        "messages": [
                            {"role": "user", "content": f"Summarise ticket thread {h}-{k} in detail."}
                        ],
                    },
                    "response": {
                        "id": f"r{h}-{k}",
                        "object": "chat.completion",
                        "model": "gpt-4o",
                        "usage": {"prompt_tokens": 100000, "completion_tokens": 0, "total_tokens": 100000},
                    },
                }
            )
    return write_jsonl(path, recs)


def test_hourly_llm_spike_is_a_finding(tmp_path: Path) -> None:
    _, doc = scan_json("--scanner", "llm", "--llm-logs", str(llm_logs(tmp_path / "logs.jsonl")))
    found = {(f["evidence"]["dimension"], f["evidence"]["value"]): f for f in anomalies(doc)}
    assert set(found) == {("team", "support"), ("app", "triage"), ("model", "gpt-4o")}
    f = found[("team", "support")]
    assert f["rule_id"] == "llm-spend-anomaly"
    # actual 2 x 120 x $0.25 = $60; expected 2 x $3 = $6 (office hours); above expected $54
    assert f["evidence"]["actual_usd"] == pytest.approx(60.0)
    assert f["monthly_cost_usd"] == pytest.approx(54.0, rel=0.02)
    assert f["evidence"]["started"] == "2026-10-07 10:00" and f["evidence"]["periods"] == 2
    assert f["estimated_monthly_savings_usd"] == 0.0 and f["severity"] == "low"  # < $100


def test_without_statsmodels_a_coverage_note_not_a_crash(tmp_path: Path) -> None:
    """An environment without the `forecast` extra: a `statsmodels` package that cannot be
    imported shadows the installed one in a fresh interpreter."""
    shadow = tmp_path / "shadow" / "statsmodels"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named statsmodels')\n")
    cur = str(write_cur(tmp_path / "cur.csv", spike=(80, 82)))
    src = str(ROOT / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "shadow"), src])}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "aifinops_cli",
            "scan",
            "--scanner",
            "billing",
            "--billing",
            cur,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert anomalies(doc) == []
    [note] = [c for c in doc["coverage"]["scopes"] if c["scope"] == "spend anomalies"]
    assert note["status"] == "skipped" and "pip install 'aifinops[forecast]'" in note["message"]
    # the rest of the scan stands: billed total = web 90 x $200 + 3 RIFees (Feb 1, Mar 1, Apr 1)
    # x $300 = $18,900, plus ml 12 weeks x $680 + days 84-89 ($620) + the spike's 4 x $210 = $9,620
    assert doc["analysis"]["billing"]["summary"]["Billed total (USD)"] == pytest.approx(28520.0)
