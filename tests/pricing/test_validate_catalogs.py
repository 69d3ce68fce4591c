"""Price catalogs and the config's `pricing:` section are checked against a JSON Schema
(pricing/schema.py) before any scan: a broken one is exit 2 naming file:line, never a KeyError
without a place, and a good one prices what it says."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from aifinops_cli.core.config import load_config
from aifinops_cli.core.yamlsrc import load_one
from aifinops_cli.pricing.catalog import catalog_from_config, check_catalog
from tests.conftest import run_cli

# a scan that would read nothing but a missing log file: exit 3 if it got that far, so exit 2
# shows the refusal came first
NO_SCAN = ["scan", "--llm-logs", "/nonexistent/never-read.jsonl"]

GOOD = """\
catalog: our-negotiated
source: our AWS agreement
price_date: 2026-11-01
currency: USD
services:
  aws.ec2:
    unit: hour
    prices:
      us-east-1:
        p4d.24xlarge: 19.5
"""


def test_bundled_catalogs_validate() -> None:
    data = resources.files("aifinops_cli.pricing") / "data"
    checked = []
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        doc = load_one(entry.read_text(encoding="utf-8"), f"bundled:{entry.name}")
        if not doc.data.get("services"):
            continue  # classification data beside the catalogs (model tiers, AI services)
        check_catalog(doc)  # raises SourceError at file:line on any problem
        checked.append(entry.name)
    assert checked == ["aws.yaml", "gcp.yaml", "gcp_ai.yaml", "gcp_attached_gpus.yaml"]


def scan_error(runner, tmp_path: Path, config_body: str, catalog_body: str | None = None) -> str:
    if catalog_body is not None:
        (tmp_path / "ours.yaml").write_text(catalog_body, encoding="utf-8")
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(config_body, encoding="utf-8")
    result = run_cli(runner, "-c", str(cfg), *NO_SCAN)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("aifinops: error:")]
    return line


CATALOG_CASES = [
    # (what is wrong, the catalog text, line, where, what the message says)
    (
        "missing price_date",
        GOOD.replace("price_date: 2026-11-01\n", ""),
        1,
        "",
        "'price_date' is a required property",
    ),
    (
        "impossible date",
        GOOD.replace("2026-11-01", '"2026-02-30"'),
        3,
        "price_date",
        "expected a date as YYYY-MM-DD, got '2026-02-30'",
    ),
    (
        "date not ISO",
        GOOD.replace("2026-11-01", "Nov 2026"),
        3,
        "price_date",
        "expected a date as YYYY-MM-DD, got 'Nov 2026'",
    ),
    (
        "impossible unquoted date",
        GOOD.replace("2026-11-01", "2026-13-01"),
        3,
        "",
        "invalid value '2026-13-01'",
    ),
    (
        "negative price",
        GOOD.replace("19.5", "-1"),
        10,
        "services.aws.ec2.prices.us-east-1.p4d.24xlarge",
        "a price must be a non-negative number of USD, got -1",
    ),
    (
        "price as text",
        GOOD.replace("19.5", '"19.5"'),
        10,
        "services.aws.ec2.prices.us-east-1.p4d.24xlarge",
        "a price must be a non-negative number of USD, got '19.5'",
    ),
    (
        "price as boolean",
        GOOD.replace("19.5", "yes"),
        10,
        "services.aws.ec2.prices.us-east-1.p4d.24xlarge",
        "got True",
    ),
    (
        "infinite price",
        GOOD.replace("19.5", ".inf"),
        10,
        "services.aws.ec2.prices.us-east-1.p4d.24xlarge",
        "a price must be a finite number of USD",
    ),
    (
        "unknown top-level key",
        GOOD.replace("currency: USD\n", "currency: USD\ncolour: blue\n"),
        5,
        "colour",
        "unknown field 'colour'",
    ),
    (
        "other currency",
        GOOD.replace("currency: USD", "currency: EUR"),
        4,
        "currency",
        "prices are in USD, got 'EUR'",
    ),
    (
        "service without unit",
        GOOD.replace("    unit: hour\n", ""),
        6,
        "services.aws.ec2",
        "'unit' is a required property",
    ),
    (
        "service as a list",
        GOOD.split("  aws.ec2:")[0] + "  aws.ec2: [19.5]\n",
        6,
        "services.aws.ec2",
        "expected a mapping with unit and prices, got [19.5]",
    ),
    (
        "misspelt service key",
        GOOD.replace("    prices:", "    price:"),
        8,
        "services.aws.ec2.price",
        "unknown field 'price'",
    ),
    (
        "region not a mapping",
        GOOD.replace("      us-east-1:\n        p4d.24xlarge: 19.5\n", "      us-east-1: 19.5\n"),
        9,
        "services.aws.ec2.prices.us-east-1",
        "expected a mapping of SKU: price, got 19.5",
    ),
    (
        "service name",
        GOOD.replace("aws.ec2:", "AWS EC2:"),
        6,
        "services.AWS EC2",
        "a service is lowercase and dotted",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "line", "where", "says"), CATALOG_CASES, ids=[c[0] for c in CATALOG_CASES]
)
def test_broken_user_catalog_is_exit_2_at_its_line(
    runner, tmp_path: Path, case: str, body: str, line: int, where: str, says: str
) -> None:
    message = scan_error(runner, tmp_path, f"pricing:\n  catalogs: ['{tmp_path / 'ours.yaml'}']\n", body)
    assert f"{tmp_path / 'ours.yaml'}:{line}: {where + ': ' if where else ''}" in message, message
    assert says in message, message


PRICING_CASES = [
    ("pricing:\n  catalog: [x.yaml]\n", 2, "pricing.catalog", "unknown field 'catalog'"),
    ("pricing:\n  catalogs: ours.yaml\n", 2, "pricing.catalogs", "expected a list of files"),
    ("pricing:\n  live: 'no'\n", 2, "pricing.live", "expected true or false, got 'no'"),
    ("pricing:\n  discount_pct: 120\n", 2, "pricing.discount_pct", "percentage from 0 to 100, got 120"),
    (
        "pricing:\n  discount_pct: {aws.ec2: -5}\n",
        2,
        "pricing.discount_pct.aws.ec2",
        "percentage from 0 to 100, got -5",
    ),
    (
        "pricing:\n  overrides:\n    - {service: aws.ec2, sku: p4d.24xlarge, unit_price_usd: 19.5}\n"
        "    - {service: aws.ec2, sku: p5.48xlarge, unit_price: 30}\n",
        4,
        "pricing.overrides.1.unit_price",
        "unknown field 'unit_price'",
    ),
    (
        "pricing:\n  overrides:\n    - {service: aws.ec2, sku: p5.48xlarge, unit_price_usd: -30}\n",
        3,
        "pricing.overrides.0.unit_price_usd",
        "non-negative number of USD, got -30",
    ),
    (
        "pricing:\n  overrides:\n    - {service: aws.ec2, sku: p5.48xlarge, unit_price_usd: 30,"
        " price_date: 'last week'}\n",
        3,
        "pricing.overrides.0.price_date",
        "expected a date as YYYY-MM-DD",
    ),
]


@pytest.mark.parametrize(("body", "line", "where", "says"), PRICING_CASES)
def test_bad_pricing_section_is_exit_2_at_its_line(
    runner, tmp_path: Path, body: str, line: int, where: str, says: str
) -> None:
    message = scan_error(runner, tmp_path, body)
    assert f"{tmp_path / 'conf.yaml'}:{line}: {where}: " in message, message
    assert says in message, message


def test_good_catalog_overrides_and_discounts_price_as_written(tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text(GOOD, encoding="utf-8")
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(
        f"pricing:\n  catalogs: ['{tmp_path / 'ours.yaml'}']\n  discount_pct: {{aws.ec2: 28}}\n"
        "  overrides:\n    - {service: aws.ebs, sku: gp3, region: us-east-1, unit_price_usd: 0.05,"
        " price_date: 2026-10-15}\n",
        encoding="utf-8",
    )
    prices = catalog_from_config(load_config(cfg))
    line = prices.line("aws.ec2", "p4d.24xlarge", "us-east-1", 730.0, "p4d for a month")
    assert line is not None
    assert (line.source, line.price_date, line.unit) == ("our-negotiated", "2026-11-01", "hour")
    assert line.monthly_usd == pytest.approx(19.5 * 730 * (1 - 0.28))  # 10,249.20
    disk = prices.line("aws.ebs", "gp3", "us-east-1", 500.0, "500 GB gp3")
    assert disk is not None
    assert (disk.source, disk.price_date) == ("user-override", "2026-10-15")  # unquoted date: text
    assert disk.monthly_usd == pytest.approx(0.05 * 500)  # 25.00, no aws.ebs discount
    assert {
        "catalog": "our-negotiated",
        "price_date": "2026-11-01",
        "source": "our AWS agreement",
        "file": str(tmp_path / "ours.yaml"),
    } in prices.catalogs
