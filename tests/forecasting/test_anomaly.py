"""Spend anomalies: a planted spike is found with its dollars, a steady weekly bill raises none."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.forecasting import anomaly
from aifinops_cli.forecasting.charges import USAGE, DailyCharge

START = date(2025, 1, 1)
WEEK = [120.0, 120.0, 110.0, 110.0, 100.0, 60.0, 60.0]  # a team's weekday pattern, $/day


def bill(days: int, spike: tuple[int, int] | None = None, factor: float = 5.0) -> list[DailyCharge]:
    """Team `ml` on a steady weekly pattern, team `web` flat at $200/day."""
    out = []
    for i in range(days):
        d = START + timedelta(days=i)
        ml = WEEK[i % 7] * (factor if spike and spike[0] <= i < spike[1] else 1.0)
        out += [
            DailyCharge(d, "ml", "AmazonSageMaker", USAGE, ml),
            DailyCharge(d, "web", "AmazonEC2", USAGE, 200.0),
        ]
    return out


def params() -> dict[str, float]:
    return anomaly.settings("billing", load_rules())


def test_planted_five_x_spike_for_two_days_is_found_with_its_dollars() -> None:
    # 90 days; team ml spends 5x on days 80 and 81 (Mar 22 and 23, 2025: a Saturday and a Sunday)
    found = anomaly.billing_anomalies(bill(90, spike=(80, 82)), params())
    assert {(a.dimension, a.value) for a in found} == {("owner", "ml"), ("service", "AmazonSageMaker")}
    a = next(x for x in found if x.dimension == "owner")
    assert a.started == datetime(2025, 3, 22) and a.periods == 2 and not a.ongoing
    # day 80 is weekday index 80 % 7 = 3 ($110), day 81 index 4 ($100): actual 5 x 210 = 1,050;
    # expected 110 + 100 = 210 (the pattern, learnt exactly); above expected 1,050 - 210 = 840
    assert a.actual == pytest.approx(1050.0)
    assert a.expected == pytest.approx(210.0, rel=0.02)
    assert a.excess == pytest.approx(840.0, rel=0.01)
    # as a finding of category `anomaly`, dollars above expected as its cost, no savings claimed
    findings = evaluate(load_rules(), [anomaly.observation(a, "billing", "test.csv")])
    assert [(f.rule_id, f.category) for f in findings] == [("billing-spend-anomaly", "anomaly")]
    assert findings[0].monthly_cost_usd == pytest.approx(840.0, rel=0.01)
    assert findings[0].estimated_monthly_savings_usd == 0.0
    assert findings[0].evidence["started"] == "2025-03-22" and findings[0].evidence["ongoing"] is False


def test_spike_at_the_end_is_still_going_on() -> None:
    found = anomaly.billing_anomalies(bill(90, spike=(88, 90)), params())
    a = next(x for x in found if x.dimension == "owner")
    assert a.ongoing and a.started == datetime(2025, 3, 30)


def test_steady_weekly_pattern_yields_none() -> None:
    assert anomaly.billing_anomalies(bill(90), params()) == []


def test_hit_and_false_alarm_counts_over_a_generated_set() -> None:
    """20 noisy bills (lognormal sigma 0.1 around the weekly pattern), half with a planted 5x
    two-day spike at a random day of the window: hits = spikes found on the right day, false
    alarms = anomalies anywhere else."""
    rng = np.random.default_rng(11)
    hits = misses = false_alarms = 0
    for k in range(20):
        spiked = k % 2 == 0
        day = int(rng.integers(77, 88))
        noise = np.exp(rng.normal(0, 0.1, 90))
        rows = []
        for i in range(90):
            f = 5.0 if spiked and day <= i < day + 2 else 1.0
            cost = WEEK[i % 7] * noise[i] * f
            rows.append(DailyCharge(START + timedelta(days=i), "ml", "svc", USAGE, cost))
        found = [a for a in anomaly.billing_anomalies(rows, params()) if a.dimension == "owner"]
        right = [a for a in found if spiked and a.started == datetime(2025, 1, 1) + timedelta(days=day)]
        hits += bool(right)
        misses += spiked and not right
        false_alarms += len(found) - len(right)
    print(f"hits {hits}/10, misses {misses}, false alarms {false_alarms} over 20 bills")
    assert hits >= 9 and false_alarms <= 1


def test_hourly_llm_spike() -> None:
    from aifinops_cli.scanners.llm.series import LlmSpend

    t0 = datetime(2026, 10, 1)
    rows = []
    for h in range(24 * 7):
        cost = 2.0 + (1.0 if 9 <= h % 24 < 18 else 0.0)  # $3/h office hours, $2/h at night
        if h in (24 * 6 + 10, 24 * 6 + 11):  # 10:00 and 11:00 on the last day: 10x
            cost *= 10
        rows.append(LlmSpend(t0 + timedelta(hours=h), "support", "triage", "gpt-4o", cost, 1))
    found = anomaly.llm_anomalies(rows, anomaly.settings("llm", load_rules()))
    assert {a.dimension for a in found} == {"team", "app", "model"}
    a = found[0]
    # actual 2 x 30 = 60; expected 2 x 3 = 6; above expected 54
    assert a.started == datetime(2026, 10, 7, 10) and a.periods == 2
    assert a.excess == pytest.approx(54.0, rel=0.02)
