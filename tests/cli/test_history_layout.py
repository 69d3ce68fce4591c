"""`aifinops history` reads at 80 columns: whole dollar amounts (never `$4…`), the smallest
breakdown columns left out by priority and named, every line inside the width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.history import History

CATEGORIES = [
    ("zombie-infrastructure", 28388.65),
    ("idle-cluster", 17140.40),
    ("orphaned-storage", 1794.40),
    ("data-egress", 1102.20),
    ("duplicate-capability", 686.20),
    ("agent-overhead", 5.15),
    ("budget", 0.26),
    ("attribution", 0.0),
]


def _doc(scale: float) -> dict[str, Any]:
    findings = [
        {
            "fingerprint": f"{n:016x}",
            "rule_id": f"rule-{n}",
            "category": category,
            "severity": "high",
            "owner": "ml-research",
            "provider": "aws",
            "monthly_cost_usd": usd * scale,
            "estimated_monthly_savings_usd": usd * scale,
            "suppressed": False,
            "overlaps": None,
        }
        for n, (category, usd) in enumerate(CATEGORIES)
    ]
    total = sum(f["estimated_monthly_savings_usd"] for f in findings)
    return {
        "scanners": ["aws.ec2"],
        "findings": findings,
        "summary": {"findings": 8, "monthly_waste_usd": total},
    }


@pytest.fixture
def state(tmp_path: Path) -> Path:
    with History.open(tmp_path) as store:
        store.record(_doc(1.0))
        store.record(_doc(2.0))
    return tmp_path


@pytest.mark.parametrize("width", [80, 200])
def test_history_fits_the_terminal(state: Path, width: int) -> None:
    result = CliRunner().invoke(
        app, ["history", "--state-dir", str(state)], env={"COLUMNS": str(width), "NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "…" not in result.stdout
    # run 1: 28,388.65 + 17,140.40 + 1,794.40 + 1,102.20 + 686.20 + 5.15 + 0.26 + 0 = 49,117.26
    # run 2: twice that, 98,234.52; the change is +49,117.26
    assert "$49,117.26" in result.stdout and "$98,234.52" in result.stdout
    assert "+$49,117.26" in result.stdout
    if width == 80:
        # the smallest categories go first: agent-overhead, budget (and the rest as "other")
        note = result.stdout[result.stdout.index("not shown at this width:") :]
        assert "agent-overhead" in note and "other" in note  # budget and attribution are "other"
        assert "zombie-infrastructure" not in note and "$56,777.30" in result.stdout  # 2 x 28,388.65
    else:
        assert "not shown at this width" not in result.stdout


@pytest.mark.parametrize("width", [80, 200])
def test_diff_fits_the_terminal(state: Path, width: int) -> None:
    result = CliRunner().invoke(
        app,
        ["diff", "previous", "latest", "--state-dir", str(state)],
        env={"COLUMNS": str(width), "NO_COLOR": "1"},
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    # every amount doubled: 49,117.26 -> 98,234.52; zombie-infrastructure 28,388.65 -> 56,777.30
    assert "+$49,117.26" in result.stdout and "+$28,388.65" in result.stdout
    if width == 80:
        assert "not shown at this width: Before, After" in " ".join(result.stdout.split())
