"""`--format observations`: what each scanner saw, one JSON object per line, before any rule."""

from __future__ import annotations

import json
import math

import pytest

from aifinops_cli.core.models import CostLine, Observation, Report
from aifinops_cli.output import formatters
from tests.conftest import run_cli
from tests.paths import ROOT

LOG = ROOT / "tests" / "data" / "llm" / "openai_chat.jsonl"  # one OpenAI chat completion


def test_one_logged_request_is_its_unowned_spend_observation(runner):
    result = run_cli(runner, "scan", "--llm-logs", str(LOG), "--format", "observations")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    obs = json.loads(line)
    assert (obs["scanner"], obs["provider"], obs["kind"]) == ("llm", "llm", "llm.unowned_spend")
    # gpt-4o-mini (genai-prices: $0.15 in, $0.075 cached in, $0.60 out per 1M), 1,500 prompt
    # tokens of which 1,024 cached, 200 out: 476 x 0.15 + 1024 x 0.075 + 200 x 0.60 = 268.2 per 1M
    assert obs["metrics"]["observed_unowned_usd"] == pytest.approx(268.2e-6, abs=1e-6)
    # one request is one day of logs: x 30.4167 days a month
    assert obs["monthly_cost_usd"] == pytest.approx(268.2e-6 * 730 / 24, abs=1e-6)
    prices = {c["sku"]: c["unit_price_usd"] for c in obs["cost_lines"]}
    assert prices == {"llm:unowned:input": 0.15, "llm:unowned:cached_input": 0.075, "llm:unowned:output": 0.6}


def test_hostile_values_stay_one_line_and_json() -> None:
    odd = Observation(
        provider="aws",
        kind="aws.ec2.instance",
        id='i-1\n{"kind": "forged"}',
        tags={"team": "a\r\nb", "\u2028": "\x1b[31m"},
        metrics={"cpu_max_pct": math.nan, "gpu_util_avg_pct": math.inf, "hours": 3.0},
        cost_lines=(CostLine("p3.2xlarge", 3.06, "hour", 730, "aws-on-demand", "2026-11-01"),),
    )
    report = Report("0", "", "", ["aws.ec2"], [], [], observed=[("aws.ec2", odd)])
    text = formatters()["observations"]().render(report)
    [line] = text.splitlines()
    back = json.loads(line)
    assert back["id"] == odd.id and back["tags"] == odd.tags
    # JSON has no NaN or infinity: such a metric is null, the others kept
    assert back["metrics"] == {"cpu_max_pct": None, "gpu_util_avg_pct": None, "hours": 3.0}
    assert back["monthly_cost_usd"] == pytest.approx(3.06 * 730)
