"""`baseline create`, a `--baseline` that does not exist yet (a CI job's first run),
`--fail-on-cost` and the suppressed findings in Markdown, on the FOCUS export of
tests/focus_export.py: billing-ai-egress saves 1,000 GB x $0.02 x 80% = $16.00 a month,
billing-untagged-ai-spend saves $0.00 (its $500.00 is unowned, not avoidable)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.focus_export import write_focus


@pytest.fixture
def export(tmp_path):
    return write_focus(tmp_path / "focus-2026-10.csv")


def _fingerprints(path) -> set[str]:
    return {f["fingerprint"] for f in json.loads(path.read_text())["findings"]}


def test_baseline_create_then_the_gate_passes(runner, tmp_path, export, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = run_cli(runner, "baseline", "create", "--billing", str(export))
    assert made.exit_code == 0, made.output
    baseline = tmp_path / ".aifinops" / "baseline.json"  # the default path
    assert "baseline: 2 finding(s) are now known" in made.stderr
    scanned = run_cli(runner, "-q", "scan", "--billing", str(export), "-f", "json")
    assert _fingerprints(baseline) == {f["fingerprint"] for f in json.loads(scanned.stdout)["findings"]}
    gated = run_cli(
        runner, "scan", "--billing", str(export), "--baseline", str(baseline), "--fail-on", "low",
        "--fail-on-cost", "0", "-f", "json",
    )  # fmt: skip
    assert gated.exit_code == 0, gated.stderr
    assert json.loads(gated.stdout)["new_findings"] == 0


def test_baseline_create_never_fails_on_findings(runner, tmp_path, export):
    target = tmp_path / "ci" / "known.json"
    made = run_cli(runner, "-q", "baseline", "create", "--billing", str(export), "--output", str(target))
    assert made.exit_code == 0 and made.stderr == ""
    assert len(_fingerprints(target)) == 2
    # the report flags belong to scan: a baseline is one JSON file
    refused = run_cli(runner, "baseline", "create", "--billing", str(export), "--fail-on", "low")
    assert refused.exit_code == 2 and "No such option: --fail-on" in refused.output


def test_missing_baseline_is_a_notice_with_the_command(runner, tmp_path, export):
    missing = tmp_path / ".aifinops" / "baseline.json"
    args = ("scan", "--billing", str(export), "--baseline", str(missing), "-f", "json")
    result = run_cli(runner, *args)
    assert result.exit_code == 0, result.stderr  # no gate: a notice, not an error
    notice = " ".join(result.stderr.split())
    assert f"notice: baseline {missing} does not exist yet, so every finding is new" in notice
    assert f"aifinops baseline create --output {missing}" in notice
    assert json.loads(result.stdout)["new_findings"] == 2
    # with a gate every finding is new, so it trips; the one -q line still says how to fix it
    quiet = run_cli(runner, "-q", *args, "--fail-on", "low")
    assert quiet.exit_code == 1
    assert quiet.stderr == (
        "aifinops: failing: 2 new finding(s) at or above low ($16.00/month); no baseline at "
        f"{missing} yet: create it with `aifinops baseline create --output {missing}` "
        "(exit 1: new findings at or above --fail-on)\n"
    )
    assert not missing.exists()  # the scan never writes it: creating one is a decision


@pytest.mark.parametrize(
    ("usd", "code"),
    [
        ("15.99", 1),  # $16.00 >= $15.99
        ("16", 1),  # $16.00 + $0.00 = $16.00: "at least" includes equality
        ("16.01", 0),
    ],
)
def test_fail_on_cost_sums_new_savings(runner, export, usd, code):
    result = run_cli(runner, "-q", "scan", "--billing", str(export), "--fail-on-cost", usd, "-f", "json")
    assert result.exit_code == code, result.stderr
    if code:
        assert result.stderr == (
            f"aifinops: failing: new findings save $16.00/month, at or above --fail-on-cost "
            f"${float(usd):,.2f} (exit 1: new findings at or above --fail-on)\n"
        )


def test_fail_on_cost_leaves_out_known_and_suppressed(runner, tmp_path, export):
    rules = tmp_path / "s.yaml"
    rules.write_text(
        "suppressions:\n  - rule: billing-ai-egress\n    reason: 'DR replica | agreed with finance'\n"
    )
    out = tmp_path / "out"
    result = run_cli(
        runner, "-q", "scan", "--billing", str(export), "--suppressions", str(rules),
        "--fail-on-cost", "0.01", "-f", "json,markdown", "--output-dir", str(out),
    )  # fmt: skip
    # the $16.00 is suppressed; the untagged finding is new but saves $0.00 < $0.01
    assert result.exit_code == 0, result.stderr
    zero = run_cli(
        runner, "-q", "scan", "--billing", str(export), "--suppressions", str(rules), "--fail-on-cost", "0"
    )
    assert zero.exit_code == 1  # 0: any new finding fails (the untagged one, $0.00 >= $0.00)
    md = (out / "aifinops-report.md").read_text()
    assert "Suppressed (not counted): 1. Each is listed with its reason under *Suppressed findings*." in md
    section = md[md.index("## Suppressed findings") :]
    row = (
        "| billing-ai-egress | `us-east-1->us-west-2 (inter-region)` (i-0train01) | ml-research | $16.00 | "
        f"DR replica \\| agreed with finance \\[{rules}:2] |"
    )
    assert row in section.splitlines()


def test_no_new_findings_never_trips_fail_on_cost_zero(runner, tmp_path, export):
    baseline = tmp_path / "b.json"
    run_cli(runner, "-q", "baseline", "create", "--billing", str(export), "-o", str(baseline))
    result = run_cli(
        runner, "-q", "scan", "--billing", str(export), "--baseline", str(baseline), "--fail-on-cost", "0"
    )
    assert result.exit_code == 0, result.stderr
