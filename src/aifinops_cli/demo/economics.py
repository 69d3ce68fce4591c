"""The demo company's customers, plans and pricing what-ifs, for `scan --demo` and
`aifinops economics --demo`.

The customers are the ones the demo LLM logs bill (demo/llm.py CUSTOMERS);
`write_demo(dir)` writes the plans CSV beside the demo's generated logs and billing exports
(demo/__init__.py demo_inputs), and `demo_economics_config(dir)` is the `economics:` config
section the demo scans with.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

# customer, plan, monthly_revenue (USD), included_allowance (standard-model requests a month).
# A B2B SaaS of about $290k a month selling document and support AI: four customers spend
# 12-25% of their revenue on AI; globex (enterprise) and initech (growth) run the research agent
# all day (demo/llm.py RESEARCH_CUSTOMERS) and carry the research GPU bill with it: globex at about
# 80% of its revenue, initech above 100% (a negative margin), the two `economics-ai-cost-share`
# findings by customer.
PLANS = (
    ("acme", "enterprise", 60000.0, 8000),
    ("globex", "enterprise", 90000.0, 8000),
    ("stark", "enterprise", 48000.0, 8000),
    ("umbrella", "growth", 36000.0, 5000),
    ("hooli", "growth", 30000.0, 5000),
    ("initech", "growth", 24000.0, 5000),
)


def demo_economics_config(root: Path) -> dict[str, Any]:
    """Plans (written by `write_demo(root)`), the owner of the demo's GPU bill, and the what-if
    parameters."""
    return {
        "revenue": str(root / "plans.csv"),
        # the ml-research GPU fleet in the demo billing export serves the research team
        "allocation": {"owners": {"ml-research": {"team": "research"}}},
        "pricing": {
            # consumption: cost + 40%; outcome: $4 per successful session; hybrid: a $20k
            # platform fee, $2 per standard request past the plan's allowance, $1.50 per
            # premium-model request
            "margin_pct": 40,
            "price_per_outcome": 4.0,
            "hybrid": {"platform_fee": 20000, "standard_overage": 2.0, "premium_action": 1.5},
        },
        "caching": {"hit_share": 0.5},
        # an open model on the demo cluster's A100s (1.60/h, k8s demo) at a measured 2,500 tokens/s
        "self_hosted": [{"model": "gpt-4o*", "gpu_hour_usd": 1.60, "tokens_per_second": 2500, "min_gpus": 1}],
    }


def write_demo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "plans.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer", "plan", "monthly_revenue", "included_allowance"])
        w.writerows(PLANS)
