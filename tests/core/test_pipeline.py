"""The pipeline below the CLI (core/pipeline.py): a library caller that builds a ScanRequest gets
the same findings, statuses and totals as `aifinops scan` for the same input, baseline and
suppressions included."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from aifinops_cli.core import suppressions as supp
from aifinops_cli.core.config import Config
from aifinops_cli.core.pipeline import RequestError, ScanRequest, scan
from aifinops_cli.core.plugin import ScanOptions
from aifinops_cli.core.report import to_dict
from aifinops_cli.core.rules import load_rules
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.billing.provider import BillingSettings
from tests.conftest import run_cli
from tests.paths import TEST_DATA

DATA = TEST_DATA / "billing"
INPUTS = [str(DATA / "cur_legacy.csv"), str(DATA / "gcp_export.json")]
GCP_FLOW = "billing-inter-region-egress"  # us-central1 -> EMEA in gcp_export.json
AI_FLOW = "billing-ai-egress"  # us-east-1 -> us-west-2 from i-gpu1 in cur_legacy.csv
UNTAGGED = "billing-untagged-ai-spend"


def request(baseline: set[str] | None, suppressions: Path | None) -> ScanRequest:
    config = Config()
    files = [suppressions] if suppressions is not None else []
    return ScanRequest(
        options=ScanOptions(settings={"billing": BillingSettings(paths=list(INPUTS))}),
        config=config,
        rules=load_rules([], config),
        prices=load_catalog(),
        baseline=baseline,
        suppressions=supp.load(files),
        suppression_files=[str(p) for p in files],
        today=date(2026, 12, 1),
    )


def by_rule(doc: dict) -> dict[str, dict]:
    return {f["rule_id"]: f for f in doc["findings"]}


def test_library_caller_gets_the_cli_totals(runner, tmp_path) -> None:
    plain = to_dict(scan(request(None, None)).report)
    found = by_rule(plain)
    assert set(found) == {GCP_FLOW, AI_FLOW, UNTAGGED}
    # by hand: GCP 300 GiB billed 24.00 less a 4.00 committed-use credit = 20.00/month, 90%
    # avoidable; AWS 1,000 GB x 0.02 = 20.00/month from a GPU instance, 80% avoidable
    assert found[GCP_FLOW]["estimated_monthly_savings_usd"] == pytest.approx(20.0 * 0.9)
    assert found[AI_FLOW]["estimated_monthly_savings_usd"] == pytest.approx(1000 * 0.02 * 0.8)
    assert found[UNTAGGED]["estimated_monthly_savings_usd"] == 0.0
    assert plain["summary"]["monthly_waste_usd"] == pytest.approx(18.0 + 16.0)
    assert {f["status"] for f in plain["findings"]} == {"new"}

    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"findings": [{"fingerprint": found[GCP_FLOW]["fingerprint"]}]}))
    rules = tmp_path / "suppressions.yaml"
    rules.write_text(
        f"suppressions:\n"
        f"  - rule: {AI_FLOW}\n    reason: replication job moves in Q1\n"
        f"  - rule: {UNTAGGED}\n    reason: lapsed\n    expires: 2026-01-31\n"
    )
    known = {found[GCP_FLOW]["fingerprint"]}

    lib = to_dict(scan(request(known, rules)).report)
    got = by_rule(lib)
    assert got[GCP_FLOW]["status"] == "known" and got[UNTAGGED]["status"] == "new"
    assert got[AI_FLOW]["suppressed"] and "replication job moves in Q1" in got[AI_FLOW]["suppression_reason"]
    assert not got[UNTAGGED]["suppressed"]  # its entry expired on 2026-01-31, before "today"
    assert lib["summary"]["monthly_waste_usd"] == pytest.approx(18.0)  # 34.00 less the suppressed 16.00
    assert lib["suppressions"]["suppressed_findings"] == 1
    expired = lib["suppressions"]["expired"]
    assert [(e["selector"], e["matched"]) for e in expired] == [(f"rule={UNTAGGED}", 1)]
    assert lib["visibility"]["score"] == plain["visibility"]["score"]

    result = run_cli(
        runner,
        "-q",
        "scan",
        *(a for p in INPUTS for a in ("--billing", p)),
        "--baseline",
        str(baseline),
        "--suppressions",
        str(rules),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert cli["summary"] == lib["summary"]
    assert cli["visibility"] == lib["visibility"]

    def key(doc: dict) -> list[tuple]:
        return sorted(
            (
                f["fingerprint"],
                f["status"],
                f["suppressed"],
                f["overlaps"],
                f["estimated_monthly_savings_usd"],
            )
            for f in doc["findings"]
        )

    assert key(cli) == key(lib)


def test_a_request_that_cannot_run_fails_before_scanning() -> None:
    config = Config()
    bad = ScanRequest(
        options=ScanOptions(),
        config=config,
        rules=load_rules([], config),
        prices=load_catalog(),
        scanners=["no.such"],
    )
    with pytest.raises(RequestError, match="unknown scanner"):
        scan(bad)
