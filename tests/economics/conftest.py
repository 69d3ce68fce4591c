"""A small priced month of LLM logs with hand-computable costs, scanned once by the real LLM
scanner (its DuckDB engine and price join), for every economics test.

Prices (config llm.prices, USD per 1M tokens): std-model in 1.00 / out 2.00 / cached 0.10;
prem-model in 10.00 / out 20.00 / cached 1.00; the tiers file makes std-model prem-model's
cheaper model. The logs span 2026-10-01 00:00 to 2026-10-31 10:00 = 730 hours = one month, so
`monthly_factor` is 1.0 and observed amounts are monthly amounts.

    session customer feature app        team     model       in      out     status  cost
    s1      acme     chat    chat-app   cx       std-model   100000  50000   ok      0.10+0.10 = 0.20
    s1      acme     chat    chat-app   cx       std-model   100000  50000   ok      0.20
    s2      acme     chat    chat-app   cx       prem-model  10000   5000    error   0.10+0.10 = 0.20
    s3      globex   search  search-app research std-model   200000  100000  ok      0.20+0.20 = 0.40
    s4      globex   search  search-app research prem-model  20000   10000   ok      0.20+0.20 = 0.40
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from tests.llm_helpers import context

PRICES = [
    {
        "model": "std-model",
        "provider": "vllm",
        "input_per_1m": 1.0,
        "output_per_1m": 2.0,
        "cached_input_per_1m": 0.1,
    },
    {
        "model": "prem-model",
        "provider": "vllm",
        "input_per_1m": 10.0,
        "output_per_1m": 20.0,
        "cached_input_per_1m": 1.0,
    },
]
ROWS = [
    ("2026-10-01T00:00:00Z", "std-model", 100000, 50000, "ok", "s1", "acme", "chat", "chat-app", "cx"),
    ("2026-10-02T00:00:00Z", "std-model", 100000, 50000, "ok", "s1", "acme", "chat", "chat-app", "cx"),
    ("2026-10-10T00:00:00Z", "prem-model", 10000, 5000, "error", "s2", "acme", "chat", "chat-app", "cx"),
    (
        "2026-10-20T00:00:00Z",
        "std-model",
        200000,
        100000,
        "ok",
        "s3",
        "globex",
        "search",
        "search-app",
        "research",
    ),
    (
        "2026-10-31T10:00:00Z",
        "prem-model",
        20000,
        10000,
        "ok",
        "s4",
        "globex",
        "search",
        "search-app",
        "research",
    ),
]


def write_logs(root: Path) -> Path:
    path = root / "requests.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "timestamp",
                "provider",
                "model",
                "input_tokens",
                "output_tokens",
                "status",
                "request_id",
                "session_id",
                "customer",
                "feature",
                "app",
                "team",
            ]
        )
        for i, (ts, model, pin, pout, status, sid, cust, feat, app, team) in enumerate(ROWS):
            w.writerow([ts, "vllm", model, pin, pout, status, f"r{i}", sid, cust, feat, app, team])
    return path


@pytest.fixture(scope="session")
def econ_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("econ")
    write_logs(root)
    (root / "tiers.yaml").write_text(
        "premium:\n  - {provider: vllm, models: [prem-model], cheaper: std-model}\n"
    )
    (root / "plans.csv").write_text(
        "customer,plan,monthly_revenue,included_allowance\nacme,starter,20,1000\nglobex,growth,100,0\n"
        "initech,free,0,\n"
    )
    return root


@pytest.fixture(scope="session")
def usage(econ_dir: Path):
    """The real LLM scanner's usage rollup of the logs above."""
    from aifinops_cli.scanners.llm.scanner import LlmLogScanner

    llm = {"prices": PRICES, "tiers_file": str(econ_dir / "tiers.yaml")}
    ctx = context([str(econ_dir / "requests.csv")], llm)
    ctx.config = Config(sections={"llm": llm, "economics": {"revenue": str(econ_dir / "plans.csv")}})
    result = LlmLogScanner(ctx).scan()
    assert result.usage is not None
    return result.usage
