"""The what-if formulas, one place each: pure functions of monthly figures (USD, requests).

Pricing models (what a customer would have paid over the observed month, scaled to a month):
- consumption: cost x (1 + margin_pct / 100);
- outcome-based: successful outcomes x price per outcome;
- hybrid: a platform fee that includes an allowance of standard-model requests, overage per
  standard request beyond it, and every premium-model request (pricing/data/llm_tiers.yaml
  `premium`) at its own price.

Hosting: a self-hosted model costs whole GPUs for the month (HOURS_PER_MONTH x GPU-hour rate),
at least `min_gpus`, and one GPU serves `tokens_per_second` x 3600 x HOURS_PER_MONTH tokens a
month. It pays once the API bill for the same tokens exceeds that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aifinops_cli.core.models import HOURS_PER_MONTH
from aifinops_cli.economics.settings import Hybrid, SelfHosted


def consumption_price(cost_usd: float, margin_pct: float) -> float:
    return cost_usd * (1.0 + margin_pct / 100.0)


def outcome_price(successful_outcomes: float, price_per_outcome: float) -> float:
    return successful_outcomes * price_per_outcome


def hybrid_price(standard_requests: float, premium_requests: float, plan: Hybrid, allowance: float) -> float:
    overage = max(0.0, standard_requests - allowance)
    return plan.platform_fee + overage * plan.standard_overage + premium_requests * plan.premium_action


def margin(price_usd: float, cost_usd: float) -> tuple[float, float | None]:
    """(margin in USD, margin in % of the price; None when the price is 0)."""
    m = price_usd - cost_usd
    return m, (m / price_usd * 100.0 if price_usd else None)


@dataclass(frozen=True)
class Hosting:
    gpus: int  # GPUs the observed month's tokens need (at least min_gpus)
    self_hosted_usd: float  # those GPUs for a month
    api_usd: float
    saving_usd: float  # api - self-hosted (negative: the API is cheaper)
    capacity_tokens_per_gpu: float  # a month
    break_even_tokens: float | None  # monthly volume from which self-hosting is cheaper; None: never


def hosting(tokens: float, api_usd: float, spec: SelfHosted) -> Hosting:
    """The month's tokens on self-hosted GPUs against the API bill for them.

    Break-even: with `c` the API's USD per token, the fixed deployment (min_gpus) costs
    F = min_gpus x HOURS_PER_MONTH x rate, so the volume is F / c; it is never reached when one
    GPU's full month of tokens costs less at the API than the GPU itself (c x capacity <= H x rate).
    """
    per_gpu = spec.tokens_per_second * 3600.0 * HOURS_PER_MONTH
    gpus = max(spec.min_gpus, math.ceil(tokens / per_gpu)) if tokens > 0 else spec.min_gpus
    self_usd = gpus * HOURS_PER_MONTH * spec.gpu_hour_usd
    c = api_usd / tokens if tokens > 0 else 0.0
    gpu_month = HOURS_PER_MONTH * spec.gpu_hour_usd
    even = spec.min_gpus * gpu_month / c if c > 0 and c * per_gpu > gpu_month else None
    return Hosting(gpus, self_usd, api_usd, api_usd - self_usd, per_gpu, even)
