"""Forecast arithmetic and backtested error on hand-made daily series, plus the CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.scanners.billing.forecast import forecast_groups, forecast_series


def days(start: date, end: date, value) -> list[tuple[date, float]]:
    out, d = [], start
    while d <= end:
        out.append((d, value(d)))
        d += timedelta(days=1)
    return out


def test_growing_series_month_end_next_month_and_mape() -> None:
    # $100/day in January, $110/day in February, $121/day March 1..15
    rate = {1: 100.0, 2: 110.0, 3: 121.0}
    series = days(date(2025, 1, 1), date(2025, 3, 15), lambda d: rate[d.month])
    f = forecast_series(series, date(2025, 3, 15))
    # month to date 15 x 121 = 1815; daily rate = mean of the last 14 days = 121
    # month end = 1815 + 121 x 16 remaining days = 3751; next month (April, 30 days) = 3630
    assert f.month_to_date == pytest.approx(1815.0)
    assert f.month_end == pytest.approx(3751.0)
    assert f.next_month == pytest.approx(3630.0)
    # backtest on the one whole month with history before it: February forecast from Jan 18..31
    # = 100 x 28 = 2800 against 110 x 28 = 3080 -> |2800 - 3080| / 3080 = 9.0909%
    assert [t["horizon"] for t in f.backtests] == ["2025-02"]
    assert f.mape_pct == pytest.approx(9.0909, abs=1e-4)
    assert f.status == "ok"


def test_short_and_erratic_series_are_honest() -> None:
    short = forecast_series(days(date(2025, 1, 1), date(2025, 1, 10), lambda d: 5.0), date(2025, 1, 10))
    assert short.status == "cannot forecast" and short.month_end is None and "10 days" in short.reason
    # a week on ($1000/day), a week off: weekly backtests over the last 4 weeks from day 14 on
    erratic = forecast_series(
        days(date(2025, 1, 1), date(2025, 2, 11),
             lambda d: 1000.0 if ((d - date(2025, 1, 1)).days // 7) % 2 == 0 else 0.0), date(2025, 2, 11))
    assert erratic.status == "unreliable" and erratic.mape_pct is not None and erratic.mape_pct > 20


def test_groups_total_first_and_per_owner_service() -> None:
    rows = [(d, "ml", "AmazonEC2", 10.0) for d, _ in days(date(2025, 1, 1), date(2025, 1, 31), lambda d: 0)]
    rows += [(d, "web", "AmazonS3", 1.0) for d, _ in days(date(2025, 1, 1), date(2025, 1, 31), lambda d: 0)]
    out = forecast_groups(rows)
    assert [(f.owner, f.service) for f in out] == [
        ("(all)", "(all)"), ("ml", "AmazonEC2"), ("web", "AmazonS3")]
    # as of Jan 31: month end = actual 31 x 11 = 341; February 28 x 11 = 308; no whole month to
    # replay, so weekly: every week forecast 7 x 11 = 77 = actual -> MAPE 0
    assert out[0].month_end == pytest.approx(341.0) and out[0].next_month == pytest.approx(308.0)
    assert out[0].mape_pct == pytest.approx(0.0) and len(out[0].backtests) == 2


def test_forecast_cli_json_on_a_cur_file(tmp_path: Path) -> None:
    # 40 days of $24/day (one hourly-ish line a day) for team ml on AmazonEC2
    header = ("lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,lineItem/UnblendedCost,"
              "lineItem/CurrencyCode,resourceTags/user:team\n")
    body = "".join(f"{(date(2025, 3, 1) + timedelta(days=i)).isoformat()}T00:00:00Z,AmazonEC2,"
                   f"USE1-BoxUsage:m5.large,24.0,USD,ml\n" for i in range(40))
    path = tmp_path / "cur.csv"
    path.write_text(header + body)
    result = CliRunner().invoke(app, ["forecast", "--billing", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    total, ml = doc["forecasts"][0], doc["forecasts"][1]
    assert (ml["owner"], ml["service"]) == ("ml", "AmazonEC2")
    # as of April 9: month to date 9 x 24 = 216, month end 216 + 21 x 24 = 720, May 31 x 24 = 744;
    # March backtest needs 14 days before it (none): weekly backtests, all exact -> MAPE 0
    assert (total["month_to_date"], total["month_end"], total["next_month"]) == (216.0, 720.0, 744.0)
    assert total["mape_pct"] == 0.0 and total["status"] == "ok"
    table = CliRunner().invoke(app, ["forecast", "--billing", str(path)])
    assert table.exit_code == 0 and "720.00" in table.stdout
