"""`aifinops economics` and `scan --revenue` through the CLI (typer's CliRunner), on the logs of
tests/economics/conftest.py (one month observed, monthly_factor 1.0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli
from tests.economics.conftest import PRICES


@pytest.fixture
def cfg(econ_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "aifinops.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "llm": {"prices": PRICES, "tiers_file": str(econ_dir / "tiers.yaml")},
                "economics": {"allocation": {"shared": [{"name": "gpu-pool", "monthly_usd": 14}]}},
            }
        )
    )
    return path


def test_economics_json(runner, econ_dir, cfg):
    result = run_cli(
        runner,
        "-c", str(cfg), "economics", "--llm-logs", str(econ_dir / "requests.csv"),
        "--revenue", str(econ_dir / "plans.csv"), "--margin-pct", "25", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    acme = {c["name"]: c for c in doc["economics"]["units"]["customer"]}["acme"]
    # acme: tokens 0.60 + 3/7 of the 14.00 gpu-pool (6.00) = 6.60 against 20.00: margin 13.40
    assert acme["total_cost_usd"] == pytest.approx(6.60)
    assert acme["gross_margin_usd"] == pytest.approx(13.40)
    pricing = {r["customer"]: r for r in doc["economics"]["pricing_whatif"]["customers"]}
    # --margin-pct 25: 6.60 x 1.25 = 8.25
    assert pricing["acme"]["consumption"]["price_usd"] == pytest.approx(8.25)
    # 6.60 / 20.00 = 33% > 30%, the rule's default threshold; feature chat serves only acme, so the
    # same; globex 8.80 / 100.00 = 8.8% is under it
    found = sorted((f["resource_id"], f["severity"]) for f in doc["findings"])
    assert found == [("customer:acme", "low"), ("feature:chat", "low")]


def test_economics_threshold_from_set(runner, econ_dir, cfg):
    result = run_cli(
        runner,
        "-c", str(cfg), "economics", "--llm-logs", str(econ_dir / "requests.csv"),
        "--revenue", str(econ_dir / "plans.csv"), "--set", "economics-ai-cost-share.max_cost_share_pct=40",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []  # 33% is under 40%


def test_scan_with_revenue_adds_the_section_to_every_format(runner, econ_dir, cfg, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        runner,
        "-c", str(cfg), "-q", "scan", "--llm-logs", str(econ_dir / "requests.csv"),
        "--revenue", str(econ_dir / "plans.csv"), "--format", "json,markdown,html,table",
        "--output-dir", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "aifinops-report.json").read_text())
    assert doc["schema_version"] == "1.4.0"
    assert doc["economics"]["totals"]["total_cost_usd"] == pytest.approx(15.40)  # 1.40 tokens + 14.00
    assert any(f["rule_id"] == "economics-ai-cost-share" for f in doc["findings"])
    md = (out / "aifinops-report.md").read_text()
    assert "| acme | starter | $20.00 | $6.60 | $6.00 | +$13.40 | 67.0% |" in md
    assert "<h2>Unit economics</h2>" in (out / "aifinops-report.html").read_text()
    assert "Unit economics by customer" in (out / "aifinops-report.txt").read_text()


def test_scan_without_economics_has_none(runner, econ_dir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"llm": {"prices": PRICES}}))
    result = run_cli(
        runner, "-c", str(cfg), "-q", "scan", "--llm-logs", str(econ_dir / "requests.csv"), "-f", "json"
    )
    assert json.loads(result.stdout)["economics"] is None


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--revenue", "nope.csv"], {}, "nope.csv: no such file"),
        (
            [],
            {"economics": {"pricing": {"margin_pct": "x"}}},
            "config economics.pricing.margin_pct: expected a number",
        ),
        ([], {"economics": {"revenu": "x.csv"}}, "config economics.revenu: unknown setting"),
    ],
)
def test_bad_input_is_one_line_exit_2(runner, econ_dir, tmp_path, args, config, message):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"llm": {"prices": PRICES}, **config}))
    for command in ("economics", "scan"):
        result = run_cli(runner, "-c", str(cfg), command, "--llm-logs", str(econ_dir / "requests.csv"), *args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_economics_needs_logs(runner):
    result = run_cli(runner, "economics")
    assert result.exit_code == 2
    assert "nothing to analyse: pass --llm-logs PATH" in result.output


def test_baseline_applies_to_unit_economics_findings(runner, econ_dir, cfg, tmp_path):
    # the section's findings join the pipeline before baseline and suppressions: a second run
    # against the first run's report knows them, so --fail-on does not fire on them again
    first = tmp_path / "first.json"
    args = ["-c", str(cfg), "-q", "scan", "--llm-logs", str(econ_dir / "requests.csv"),
            "--revenue", str(econ_dir / "plans.csv"), "-f", "json"]  # fmt: skip
    assert run_cli(runner, *args, "-o", str(first)).exit_code == 0
    found = [f for f in json.loads(first.read_text())["findings"] if f["category"] == "unit-economics"]
    assert {f["status"] for f in found} == {"new"} and found
    again = run_cli(runner, *args, "--baseline", str(first), "--fail-on", "low")
    econ = [f for f in json.loads(again.stdout)["findings"] if f["category"] == "unit-economics"]
    assert {f["status"] for f in econ} == {"known"}


def test_economics_csv_from_both_commands(runner, econ_dir, cfg, tmp_path):
    import csv
    import io

    lago = Path(__file__).parent / "data" / "lago_invoices.json"
    result = run_cli(
        runner,
        "-c", str(cfg), "economics", "--llm-logs", str(econ_dir / "requests.csv"),
        "--lago-invoices", str(lago), "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {(r["section"], r["name"]): r for r in csv.DictReader(io.StringIO(result.stdout))}
    acme = rows[("customer", "acme")]
    # Lago: acme (2,000 + 1,000 cents) / 100 over 2 months = 15.00; cost 0.60 + 6.00 = 6.60: 8.40
    assert float(acme["monthly_revenue_usd"]) == pytest.approx(15.00)
    assert float(acme["gross_margin_usd"]) == pytest.approx(8.40)
    out = tmp_path / "out"
    result = run_cli(
        runner,
        "-c", str(cfg), "-q", "scan", "--llm-logs", str(econ_dir / "requests.csv"),
        "--revenue", str(econ_dir / "plans.csv"), "--format", "csv,economics-csv", "--output-dir", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = (out / "aifinops-report.economics.csv").read_text()
    scan_rows = {(r["section"], r["name"]): r for r in csv.DictReader(io.StringIO(text))}
    # plans.csv: acme pays 20.00, margin 20.00 - 6.60 = 13.40
    assert float(scan_rows[("customer", "acme")]["gross_margin_usd"]) == pytest.approx(13.40)
    assert float(scan_rows[("allocation", "gpu-pool")]["monthly_usd"]) == pytest.approx(14.0)
    findings = (out / "aifinops-report.csv").read_text().splitlines()[0]
    assert findings.startswith("fingerprint,rule_id,")  # the findings CSV keeps its header
