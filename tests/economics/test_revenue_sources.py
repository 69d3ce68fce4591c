"""Lago invoices and OpenMeter usage as revenue, over the usage of tests/economics/conftest.py
(acme's token cost 0.40 + 0.20 = 0.60 a month, globex's 0.40 + 0.40 = 0.80; no shared lines here).
Fixtures: tests/economics/data (SOURCE.md says what each is built from)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from aifinops_cli.economics import build, parse
from aifinops_cli.economics.settings import EconomicsError

DATA = Path(__file__).parent / "data"


def _customers(section):
    return {c["name"]: c for c in section["units"]["customer"]}


def test_lago_invoices_api_response(usage):
    path = str(DATA / "lago_invoices.json")
    section = build(usage, parse({"lago_invoices": path}))
    c = _customers(section)
    # acme (external_id): finalized 2,000 cents (Oct, paid) + 1,000 cents (Nov, pending), net of
    # tax; the draft is left out: 30.00 over 2 months = 15.00; margin 15.00 - 0.60 = 14.40
    assert c["acme"]["plan"] == "lago"
    assert c["acme"]["monthly_revenue_usd"] == pytest.approx(15.00)
    assert c["acme"]["gross_margin_usd"] == pytest.approx(14.40)
    assert c["acme"]["revenue_source"] == f"{path}: 2 month(s) of lago invoices, 30.00 USD"
    # globex, matched by its Lago customer name (external_id ext-7731): 10,000 cents in October;
    # the failed payment and the voided invoice are left out, the EUR one skipped: 100.00
    assert c["globex"]["monthly_revenue_usd"] == pytest.approx(100.00)
    assert c["globex"]["gross_margin_usd"] == pytest.approx(100.00 - 0.80)
    assert section["skipped"] == [f"{path}:6 (LAG-5678-002-003): invoice in EUR, not converted"]
    assert section["totals"]["monthly_revenue_usd"] == pytest.approx(115.00)
    assert section["sources"]["revenue"] == [f"{path} (Lago invoices)"]


def test_lago_invoices_as_json_lines_and_csv(usage, tmp_path):
    invoices = json.loads((DATA / "lago_invoices.json").read_text())["invoices"]
    lines = tmp_path / "invoices.jsonl"
    lines.write_text("".join(json.dumps(i) + "\n" for i in invoices))
    c = _customers(build(usage, parse({"lago_invoices": str(lines)})))
    assert c["acme"]["monthly_revenue_usd"] == pytest.approx(15.00)  # as above: 30.00 / 2
    # a CSV with the object's field names (the customer flattened as customer_external_id ...)
    table = tmp_path / "invoices.csv"
    with table.open("w", newline="") as fh:
        w = csv.writer(fh)
        cols = ["number", "issuing_date", "status", "payment_status", "currency"]
        w.writerow([*cols, "total_amount_cents", "customer_external_id", "customer_name"])
        for i in invoices:
            row = [i[k] for k in cols]
            w.writerow([*row, i["total_amount_cents"], i["customer"]["external_id"], i["customer"]["name"]])
    section = build(usage, parse({"lago_invoices": str(table)}))
    c = _customers(section)
    # no sub-total column: total_amount_cents (tax included): acme (2,400 + 1,200) / 100 / 2 = 18.00
    assert c["acme"]["monthly_revenue_usd"] == pytest.approx(18.00)
    assert c["globex"]["monthly_revenue_usd"] == pytest.approx(120.00)  # 12,000 cents, one month
    assert section["skipped"] == [f"{table}:7 (LAG-5678-002-003): invoice in EUR, not converted"]


@pytest.mark.parametrize("name", ["openmeter_query.json", "openmeter_query.csv"])
def test_openmeter_usage_times_unit_price(usage, name):
    path = str(DATA / name)
    section = build(usage, parse({"openmeter": {"file": path, "unit_price_usd": 0.002}}))
    c = _customers(section)
    # acme: (5,000 + 2,500) x 0.002 = 15.00 in October (1 month); margin 15.00 - 0.60 = 14.40
    assert c["acme"]["monthly_revenue_usd"] == pytest.approx(15.00)
    assert c["acme"]["gross_margin_usd"] == pytest.approx(14.40)
    # globex: 20,000 x 0.002 = 40.00 (Oct) + 30,000 x 0.002 = 60.00 (Nov) over 2 months = 50.00
    assert c["globex"]["monthly_revenue_usd"] == pytest.approx(50.00)
    assert c["globex"]["plan"] == "openmeter"
    line = 6 if name.endswith(".csv") else 5
    assert section["skipped"] == [f"{path}:{line}: no subject, value or windowStart"]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"openmeter": {"file": "usage.json"}},
            "config economics.openmeter.unit_price_usd: OpenMeter meters usage, not money",
        ),
        ({"openmeter": {"unit_price_usd": 1}}, "config economics.openmeter.file: expected a file path"),
        ({"openmeter": {"file": "u.json", "unit_price_usd": -1}}, "unit_price_usd: -1 must be at least 0"),
        ({"lago_invoices": 3}, "config economics.lago_invoices: expected a file path"),
    ],
)
def test_bad_revenue_settings_are_one_line(section, message):
    with pytest.raises(EconomicsError) as exc:
        parse(section)
    assert message in str(exc.value) and exc.value.exit_code == 2


def test_bad_revenue_files_are_one_line(usage, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,amount\n1,2\n")
    with pytest.raises(EconomicsError, match="not a Lago invoices file"):
        build(usage, parse({"lago_invoices": str(wrong)}))
    with pytest.raises(EconomicsError, match="not an OpenMeter meter query"):
        build(usage, parse({"openmeter": {"file": str(wrong), "unit_price_usd": 1}}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"invoices": [')
    with pytest.raises(EconomicsError, match="not readable JSON"):
        build(usage, parse({"lago_invoices": str(broken)}))
