"""The economics section as CSV (`--format economics-csv`): one row per unit and shared line, machine
values, amounts as worked out in tests/economics/test_economics.py (the same usage and settings)."""

from __future__ import annotations

import csv
import io

import pytest

from aifinops_cli.core.models import Report
from aifinops_cli.economics import build, parse
from aifinops_cli.output import formatters
from tests.economics.test_economics import SHARED


def _rows(usage, econ_dir):
    section = build(
        usage,
        parse(
            {
                "revenue": str(econ_dir / "plans.csv"),
                "allocation": {"shared": SHARED},
                "pricing": {"margin_pct": 50, "price_per_outcome": 5.0},
                "self_hosted": [{"model": "std-*", "gpu_hour_usd": 1.0, "tokens_per_second": 1000}],
            }
        ),
    )
    report = Report("t", "", "", [], [], [], usage=usage)
    report.economics = section
    text = formatters()["economics-csv"]().render(report)
    return list(csv.DictReader(io.StringIO(text)))


def test_economics_csv_rows(usage, econ_dir):
    rows = _rows(usage, econ_dir)
    by = {(r["section"], r["name"]): r for r in rows}
    acme = by[("customer", "acme")]
    # acme: tokens 0.60 + infrastructure 6.00 = 6.60 a month, revenue 20.00, margin 13.40 (67.0%)
    assert float(acme["total_cost_usd"]) == pytest.approx(6.60)
    assert float(acme["monthly_revenue_usd"]) == pytest.approx(20.00)
    assert float(acme["gross_margin_usd"]) == pytest.approx(13.40)
    assert acme["plan"] == "starter" and acme["period_start"].startswith("2026-10-01")
    # consumption: 6.60 x 1.5 = 9.90, margin 3.30; outcome: 1 success x 5.00 = 5.00, margin -1.60
    assert float(acme["consumption_price_usd"]) == pytest.approx(9.90)
    assert float(acme["consumption_margin_usd"]) == pytest.approx(3.30)
    assert float(acme["outcome_price_usd"]) == pytest.approx(5.00)
    assert float(acme["outcome_margin_usd"]) == pytest.approx(-1.60)
    assert acme["hybrid_price_usd"] == ""  # no hybrid parameters given
    # team research: globex's 0.80 tokens + 78.00 infrastructure
    assert float(by[("team", "research")]["total_cost_usd"]) == pytest.approx(78.80)
    std = by[("model", "vllm/std-model")]
    # std-model: 100,000 x 2 + 200,000 input + 50,000 x 2 + 100,000 output = 600,000 tokens,
    # 0.80 USD; prompt caching at hit share 0.5: 0.5 x (400,000 x (1.00 - 0.10) / 1M) = 0.18
    assert float(std["monthly_tokens"]) == 600000
    assert float(std["token_cost_usd"]) == pytest.approx(0.80)
    assert float(std["prompt_caching_saving_usd"]) == pytest.approx(0.18)
    # self-hosted: one GPU always on, 730 h x 1.00 = 730.00 against 0.80 at the API
    assert float(std["self_hosted_cost_usd"]) == pytest.approx(730.00)
    assert float(std["self_hosted_saving_usd"]) == pytest.approx(0.80 - 730.00)
    prem = by[("model", "vllm/prem-model")]
    assert prem["cheaper_model"] == "std-model"
    # prem-model 0.60 at std-model rates: (30,000 x 1.00 + 15,000 x 2.00) / 1M = 0.06: saves 0.54
    assert float(prem["cheaper_model_saving_usd"]) == pytest.approx(0.54)
    vector = next(r for r in rows if r["section"] == "allocation")
    assert float(vector["monthly_usd"]) == pytest.approx(70.0)
    assert vector["scope"] == "app=search-app"
    assert [r["section"] for r in rows].count("customer") == 2  # acme, globex


def test_economics_csv_without_the_section_is_a_header(usage):
    report = Report("t", "", "", [], [], [], usage=usage)
    text = formatters()["economics-csv"]().render(report)
    assert text.splitlines() == [text.splitlines()[0]] and text.startswith("section,name,period_start")
