"""A finding's identity never names an input file: a billing export renamed every month (as
AWS Data Exports and most FOCUS pipelines do) keeps its findings' fingerprints, so a baseline
made last month still marks them known and `--fail-on` does not trip on a rename."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.conftest import run_cli
from tests.focus_export import write_focus as _export


def _scan(runner, export: Path, out: Path, *extra: str):
    result = run_cli(runner, "-q", "scan", "--billing", str(export), "-f", "json", "-o", str(out), *extra)
    return result, json.loads(out.read_text())


def _by_rule(report: dict) -> dict[str, dict]:
    return {f["rule_id"]: f for f in report["findings"]}


def test_renamed_export_keeps_finding_ids(runner, tmp_path):
    october = _export(tmp_path / "exports" / "focus-2026-10.csv")
    _, first = _scan(runner, october, tmp_path / "first.json")
    november = tmp_path / "archive" / "aifinops-focus-2026-11-00001.csv"
    november.parent.mkdir()
    october.rename(november)
    result, second = _scan(
        runner, november, tmp_path / "second.json", "--baseline", str(tmp_path / "first.json")
    )

    one, two = _by_rule(first), _by_rule(second)
    assert set(one) == {"billing-ai-egress", "billing-untagged-ai-spend"}
    assert {k: f["fingerprint"] for k, f in one.items()} == {k: f["fingerprint"] for k, f in two.items()}
    for f in second["findings"]:
        assert "focus-2026" not in f["resource_id"] and "00001" not in f["resource_id"]
        assert f["status"] == "known"
    assert second["new_findings"] == 0
    # the money is the same finding's money: 1,000 GB x $0.02 = $20.00 a month, 80% avoidable =
    # $16.00; the untagged endpoint's $500.00 is 500 / 1,520 = 32.9% of AI spend
    assert two["billing-ai-egress"]["monthly_cost_usd"] == 20.0
    assert two["billing-ai-egress"]["estimated_monthly_savings_usd"] == 16.0
    assert two["billing-untagged-ai-spend"]["monthly_cost_usd"] == 500.0
    assert two["billing-untagged-ai-spend"]["evidence"]["untagged_share_pct"] == 32.895
    # the path is still in the evidence, where a reader traces the dollars
    assert two["billing-untagged-ai-spend"]["evidence"]["billing_source"] == str(november)
    assert result.exit_code == 0


def test_renamed_export_passes_the_gate(runner, tmp_path):
    october = _export(tmp_path / "focus-2026-10.csv")
    _scan(runner, october, tmp_path / "baseline.json")
    november = _export(tmp_path / "focus-2026-11.csv")
    gated, report = _scan(
        runner,
        november,
        tmp_path / "now.json",
        "--baseline",
        str(tmp_path / "baseline.json"),
        "--fail-on",
        "low",
    )
    assert report["new_findings"] == 0
    assert gated.exit_code == 0
    # without the baseline the same findings are new and the low gate trips (exit 1)
    ungated, _ = _scan(runner, november, tmp_path / "fresh.json", "--fail-on", "low")
    assert ungated.exit_code == 1


def test_baseline_written_before_the_change_still_matches(runner, tmp_path):
    """A baseline from a version whose id was `untagged AI spend in <path>`: the finding's former
    id is still tried, so it is known as long as the export kept its path."""
    export = _export(tmp_path / "focus.csv")
    old_id = f"untagged AI spend in {export}"
    # the fingerprint as that version computed it: rule|provider|account|region|kind|id
    raw = f"billing-untagged-ai-spend|billing|||billing.untagged_ai_spend|{old_id}"
    old = hashlib.sha256(raw.encode()).hexdigest()[:16]
    baseline = tmp_path / "old-baseline.json"
    baseline.write_text(json.dumps({"findings": [{"fingerprint": old, "resource_id": old_id}]}))
    _, report = _scan(runner, export, tmp_path / "now.json", "--baseline", str(baseline))
    found = _by_rule(report)
    assert found["billing-untagged-ai-spend"]["status"] == "known"
    assert found["billing-untagged-ai-spend"]["fingerprint"] != old
    assert found["billing-ai-egress"]["status"] == "new"  # not in that baseline
    assert report["new_findings"] == 1


def test_suppression_by_former_id_still_applies(runner, tmp_path):
    export = _export(tmp_path / "focus.csv")
    rules = tmp_path / "suppress.yaml"
    rules.write_text(
        "suppressions:\n  - resource: 'untagged AI spend in *'\n    reason: tagging project under way\n"
    )
    _, report = _scan(runner, export, tmp_path / "now.json", "--suppressions", str(rules))
    untagged = _by_rule(report)["billing-untagged-ai-spend"]
    assert untagged["suppressed"] is True
    assert untagged["suppression_reason"] == f"tagging project under way [{rules}:2]"
