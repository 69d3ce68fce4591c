"""A Spot price answer that cannot be read (not EC2's XML, an HTML 500 page, no answer) costs the
Spot price only: the instance is priced at on-demand with a note, and its region is still `ok`.
Faults are injected on the wire by the proxy in front of moto (tests/fakes/aws_proxy.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aifinops_cli.demo.aws import DemoInstance, seed_region
from tests.conftest import run_cli
from tests.fakes.aws_proxy import Fault

SPOT = [DemoInstance("spot-idle", "g5.xlarge", {"team": "ml"}, cpu=0.5, spot=True)]


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("garbage", "unreadable answer from AWS"),
        ("html500", "500"),
        ("hang", "read timed out"),
    ],
)
def test_unreadable_spot_price_falls_back_to_on_demand(shared_estate, runner, tmp_path, kind, says):
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("scan:\n  connect_timeout: 1\n  read_timeout: 1\n  max_attempts: 2\n")
    far_end = shared_estate(
        "test_isolation_spot", lambda: seed_region("us-east-1", SPOT, [], datetime.now(UTC))
    )
    far_end.recorder.faults.append(
        Fault(kind=kind, status=500, operation="DescribeSpotPriceHistory", hang_seconds=10)
    )
    try:
        result = run_cli(
            runner,
            "--config",
            str(cfg),
            "scan",
            "--regions",
            "us-east-1",
            "--scanner",
            "aws.ec2",
            "--format",
            "json",
        )
    finally:
        far_end.recorder.release.set()
        far_end.recorder.release.clear()
    assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.stderr
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    [scope] = report["coverage"]["scopes"]
    assert (scope["scope"], scope["status"]) == ("us-east-1", "ok"), scope
    [f] = report["findings"]
    # on-demand upper bound: g5.xlarge 1.006 $/h x 730 h = 734.38, + 100 GB gp3 root x 0.08 = 8.00
    assert f["monthly_cost_usd"] == pytest.approx(1.006 * 730 + 100 * 0.08)
    assert f["evidence"]["cost_basis"][0]["source"] == "aws-on-demand"
    [note] = [n for n in f["evidence"]["notes"] if "Spot instance priced at the on-demand rate" in n]
    assert says in note, note
