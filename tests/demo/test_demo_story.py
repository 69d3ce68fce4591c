"""The demo tells one story (issue 17, item 1): its LLM logs and billing exports are the 30 days
before the scan, every LLM and billing finding kind shows up worth real money, the Bedrock logs
and the Bedrock lines of the billing export are the same dollars, and idle machines are weeks
old. Amounts are checked against the arithmetic of the generated inputs (demo/llm.py,
demo/billing.py), written out here with the vendors' list prices per 1M tokens."""

from __future__ import annotations

import csv
import functools
import gzip
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aifinops_cli.demo import demo_window

MONTH_DAYS = 730 / 24  # 30.4167: the month every monthly figure is scaled to


def load(demo_dir: Path) -> dict[str, Any]:
    return json.loads((demo_dir / "aifinops-report.json").read_text())


def by_rule(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in report["findings"]:
        out[f["rule_id"]].append(f)
    return out


def llm_file(report: dict[str, Any], name: str) -> Path:
    """A demo log file as the scan read it (the report names its inputs)."""
    files = [Path(f["file"]) for f in report["analysis"]["llm"]["data"]["files"]]
    return next(p for p in files if p.name == name)


@functools.lru_cache(maxsize=64)
def jsonl(path: Path) -> tuple[dict[str, Any], ...]:
    """A demo log's records, read once per test run (the agent log is 19 MB; two tests read it)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        out = []
        for line in fh:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the demo's one truncated line
        return tuple(out)


def test_window_is_the_30_days_before_the_run() -> None:
    assert demo_window(datetime(2026, 12, 2, 10, 30, tzinfo=UTC)) == (
        datetime(2026, 11, 2, tzinfo=UTC),
        datetime(2026, 12, 2, tzinfo=UTC),
    )
    # June 1-30 seen on July 1 would be one whole calendar month (billed as 1 month, not
    # 30/30.4167 of one): the window moves a day earlier, May 31 - June 29
    assert demo_window(datetime(2026, 7, 1, 8, tzinfo=UTC)) == (
        datetime(2026, 5, 31, tzinfo=UTC),
        datetime(2026, 6, 30, tzinfo=UTC),
    )


def test_logs_bills_and_machines_are_dated_relative_to_the_scan(demo_dir: Path) -> None:
    report = load(demo_dir)
    scanned = datetime.fromisoformat(report["started_at"].replace("Z", "+00:00"))
    window = report["analysis"]["llm"]["data"]["window"]
    start, end = (datetime.fromisoformat(window[k]).replace(tzinfo=UTC) for k in ("start", "end"))
    assert scanned - timedelta(days=31) <= start and end <= scanned
    assert window["days"] == pytest.approx(30, abs=0.01)
    period = report["analysis"]["billing"]["data"]["period"]
    # the logs' 30 days, and the FOCUS export's 25 days before them (demo/billing.py HISTORY_DAYS)
    assert period == f"{start - timedelta(days=25):%Y-%m-%d} to {end:%Y-%m-%d}"
    cur = next(s for s in report["analysis"]["billing"]["data"]["sources"] if s["format"] != "FOCUS 1.0")
    assert (cur["period"]["first_day"], cur["period"]["days"]) == (f"{start:%Y-%m-%d}", 30)
    rules = by_rule(report)
    for f in rules["aws-ec2-idle-gpu"]:
        launched = datetime.fromisoformat(f["evidence"]["launched_at"])
        assert (scanned - launched).days == 38  # demo/aws.py LAUNCHED_DAYS_AGO
    assert {f["evidence"]["age_days"] for f in rules["aws-ebs-unattached"]} == {75.0}


def test_every_llm_and_billing_finding_kind_is_there(demo_dir: Path) -> None:
    rules = set(by_rule(load(demo_dir)))
    llm = {
        "llm-premium-simple",
        "llm-agent-loop",
        "llm-token-burn",
        "llm-retry-storm",
        "llm-duplicate-prompt",
        "llm-budget",
        "llm-unowned-spend",
    }
    billing = {
        "billing-ai-egress",
        "billing-nat-processing",
        "billing-internet-egress",
        "billing-inter-zone-egress",
        "billing-untagged-ai-spend",
        "billing-inter-region-egress",
    }
    anomalies = {"llm-spend-anomaly", "billing-spend-anomaly"}
    assert llm | billing | anomalies | {"economics-ai-cost-share"} <= rules


def test_billing_spend_anomaly_is_the_training_loop_by_hand(demo_dir: Path) -> None:
    """The SageMaker training run relaunched in a loop: 5x its usual hours on two days of the
    window (demo/billing.py SPIKE_DAYS), found in the FOCUS export's 55 days as one anomaly of its
    owner and one of its service; the money is what those days cost above the model's forecast."""
    from aifinops_cli.demo.billing import SPIKE_DAYS

    report = load(demo_dir)
    start = date.fromisoformat(report["analysis"]["llm"]["data"]["window"]["start"][:10])
    spike = [start + timedelta(days=n) for n in SPIKE_DAYS]
    found = {f["evidence"]["dimension"]: f for f in by_rule(report)["billing-spend-anomaly"]}
    assert set(found) == {"owner", "service"}
    focus = found["owner"]["evidence"]["source"]
    with open(focus, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if date.fromisoformat(r["ChargePeriodStart"][:10]) in spike]
    team = sum(
        float(r["BilledCost"])
        for r in rows
        if json.loads(r["Tags"] if r["Tags"] != "NULL" else "{}").get("team") == "ml-research"
    )
    sagemaker = sum(float(r["BilledCost"]) for r in rows if r["ServiceName"] == "Amazon SageMaker")
    # the training line alone on those days: 32 h x 5 x $37.688, at that line's wave level
    training = sum(float(r["BilledCost"]) for r in rows if r["x_UsageType"] == "USE1-Train:ml.p4d.24xlarge")
    assert training == pytest.approx(sum(32 * 5 * 37.688 * w for w in _waves(SPIKE_DAYS)), abs=0.01)
    for dim, value, actual in (("owner", "ml-research", team), ("service", "Amazon SageMaker", sagemaker)):
        ev = found[dim]["evidence"]
        assert ev["value"] == value and (ev["started"], ev["last"]) == tuple(d.isoformat() for d in spike)
        assert ev["actual_usd"] == pytest.approx(actual, abs=0.01)
        assert ev["excess_usd"] == pytest.approx(
            ev["actual_usd"] - ev["expected_usd"], abs=0.02
        )  # each rounded to cents
        # the loop's extra 4 x 32 h x $37.688 a day (~$4,800) is most of the excess
        assert ev["excess_usd"] > 0.8 * training * 4 / 5
        assert found[dim]["monthly_cost_usd"] == pytest.approx(ev["excess_usd"], abs=0.01)
        assert found[dim]["estimated_monthly_savings_usd"] == 0.0  # an anomaly is not a saving
        assert found[dim]["severity"] == "high"  # over $10,000 above expected (rules/anomaly.yaml)


def _waves(days: tuple[int, ...]) -> list[float]:
    """The SageMaker training line's wave level on window days `days` (demo/billing.py)."""
    from aifinops_cli.demo.billing import AI_LINES, SPIKE_LINE, WAVE

    (res,) = [line[0] for line in AI_LINES if line[2] == SPIKE_LINE]
    return [WAVE[(i * 2 + len(res)) % 5] for i in days]


def test_agent_loop_retries_burn_and_budget_by_hand(demo_dir: Path) -> None:
    report = load(demo_dir)
    rules = by_rule(report)
    f = report["analysis"]["llm"]["data"]["window"]["monthly_factor"]
    assert f == pytest.approx(MONTH_DAYS / 30, abs=1e-4)  # 30 days observed
    # the runaway session: 1,400 identical claude-sonnet-4-5 calls ($3 in, $15 out per 1M), the
    # last kept: 1,399 x (150,000 x 3 + 900 x 15) / 1e6 = 1,399 x $0.4635 = $648.44
    (loop,) = rules["llm-agent-loop"]
    assert loop["resource_id"] == "sess-loop-7" and loop["severity"] == "high"
    assert loop["estimated_monthly_savings_usd"] == pytest.approx(1399 * 0.4635 * f, abs=0.01)
    # three nights of 60 attempts on o1 ($15 in, $60 out per 1M, reasoning billed as output):
    # 8 rate-limited (not billed), 51 billed timeouts, the last success kept:
    # 51 x (150,000 x 15 + 5,000 x 60) / 1e6 = 51 x $2.55 = $130.05 each
    storms = rules["llm-retry-storm"]
    assert len(storms) == 3
    for storm in storms:
        assert storm["evidence"]["observed_wasted_usd"] == pytest.approx(51 * 2.55)
        assert storm["estimated_monthly_savings_usd"] == pytest.approx(51 * 2.55 * f, abs=0.01)
    # an ordinary research session: 8 steps of 4,000 new input and 1,500 output tokens, cache
    # writes of 6,000 then 4,000 tokens ($3.75), cache reads of 12,000 per earlier step ($0.30):
    session = (8 * (4000 * 3 + 1500 * 15) + (6000 + 7 * 4000) * 3.75 + 12000 * sum(range(8)) * 0.30) / 1e6
    assert session == pytest.approx(0.5043)
    # the deep dive: 120 distinct calls x (120,000 x 3 + 1,200 x 15) / 1e6 = $45.36, beyond the
    # median session
    (burn,) = rules["llm-token-burn"]
    assert burn["estimated_monthly_savings_usd"] == pytest.approx((120 * 0.378 - session) * f, abs=0.01)
    # research: 1,580 sessions + the loop's 1,400 calls + the deep dive = $1,491.05 over 30 days,
    # $1,511.79 a month against its $1,500 budget
    research = 1580 * session + 1400 * 0.4635 + 120 * 0.378
    (budget,) = rules["llm-budget"]
    assert budget["resource_id"].startswith("team:research:")
    assert budget["monthly_cost_usd"] == pytest.approx(research * f, abs=0.01)
    assert budget["estimated_monthly_savings_usd"] == pytest.approx(research * f - 1500, abs=0.01)
    # under 1.4% over: the month so far never reaches the budget, so it is medium on every day
    assert budget["severity"] == "medium"


def test_premium_misuse_and_duplicates_from_the_logs(demo_dir: Path) -> None:
    report = load(demo_dir)
    rules = by_rule(report)
    f = report["analysis"]["llm"]["data"]["window"]["monthly_factor"]
    chat = jsonl(llm_file(report, "openai-chat.jsonl"))
    # ticket triage on gpt-4 ($30 in, $60 out per 1M) repriced at gpt-4o-mini ($0.15, $0.60)
    triage = [r["response"]["usage"] for r in chat if r["metadata"].get("app") == "ticket-triage"]
    tin = sum(u["prompt_tokens"] for u in triage)
    tout = sum(u["completion_tokens"] for u in triage)
    saving = (tin * (30 - 0.15) + tout * (60 - 0.6)) / 1e6
    premium = {p["resource_id"].split("/")[1]: p for p in rules["llm-premium-simple"]}
    assert len(triage) == 20000
    assert premium["ticket-triage"]["estimated_monthly_savings_usd"] == pytest.approx(saving * f, abs=0.01)
    assert premium["ticket-triage"]["severity"] == "high"  # >= $500 a month
    # the intent router on claude-opus-4-1 ($15, $75) repriced at claude-haiku-4-5 ($1, $5)
    anthropic = jsonl(llm_file(report, "anthropic-agent.jsonl"))
    router = [r["response"]["usage"] for r in anthropic if r["metadata"]["app"] == "intent-router"]
    rin = sum(u["input_tokens"] for u in router)
    rout = sum(u["output_tokens"] for u in router)
    saving = (rin * (15 - 1) + rout * (75 - 5)) / 1e6
    assert premium["intent-router"]["estimated_monthly_savings_usd"] == pytest.approx(saving * f, abs=0.01)
    # the help center's two repeated questions: every repeat after the first (gpt-4.1, never
    # cached) would bill its 92k-token prompt at the cached $0.50 instead of $2.00 per 1M
    expected = []
    for question in ("What is your refund policy?", "How do I reset my password?"):
        asked = sorted(
            (r["timestamp"], r["response"]["usage"]["prompt_tokens"])
            for r in chat
            if r["metadata"].get("app") == "help-center"
            and r["request"]["messages"][1]["content"] == question
        )
        expected.append(round(sum(tokens for _, tokens in asked[1:]) * (2.0 - 0.5) / 1e6 * f, 2))
    found = sorted(round(d["estimated_monthly_savings_usd"], 2) for d in rules["llm-duplicate-prompt"])
    assert found == pytest.approx(sorted(expected), abs=0.01)
    assert min(found) > 100  # hundreds of dollars each


def test_bedrock_logs_and_billing_are_the_same_dollars(demo_dir: Path) -> None:
    report = load(demo_dir)
    files = [Path(f["file"]) for f in report["analysis"]["llm"]["data"]["files"]]
    records = [r for p in files if p.name.endswith(".json.gz") for r in jsonl(p)]
    # cross-region (us.) inference profiles bill 10% over Anthropic's list: Sonnet 4.5 $3.30 /
    # $16.50 and Haiku 4.5 $1.10 / $5.50 per 1M tokens
    price = {"claude-sonnet-4-5": (3.30, 16.50), "claude-haiku-4-5": (1.10, 5.50)}
    by_hand: dict[str, float] = defaultdict(float)
    for r in records:
        model = next(m for m in price if m in r["modelId"])
        p_in, p_out = price[model]
        team = (r.get("requestMetadata") or {}).get("team", "")
        by_hand[team] += (
            r["input"]["inputTokenCount"] * p_in + r["output"]["outputTokenCount"] * p_out
        ) / 1e6
    llm = report["analysis"]["llm"]
    (aws,) = [row for row in llm["tables"][0]["rows"] if row[0] == "aws"]  # LLM spend by provider
    cost_col = llm["tables"][0]["columns"].index("cost USD")
    assert aws[cost_col] == pytest.approx(sum(by_hand.values()), abs=0.01)
    # the billing export's Bedrock lines, read as the billing scanner's AI spend on model APIs
    focus = next(
        s["source"] for s in report["analysis"]["billing"]["data"]["sources"] if s["format"] == "FOCUS 1.0"
    )
    window = report["analysis"]["llm"]["data"]["window"]["start"][:10]
    with open(focus, encoding="utf-8") as fh:
        billed = [r for r in csv.DictReader(fh) if r["ServiceName"] == "Amazon Bedrock"]
    logged = [r for r in billed if r["ChargePeriodStart"][:10] >= window]  # the logs' 30 days
    assert sum(float(r["BilledCost"]) for r in logged) == pytest.approx(sum(by_hand.values()), abs=0.01)
    # the 25 days before the logs repeat the logs' last 25 days, a month (30 days) earlier
    day = lambda r: date.fromisoformat(r["ChargePeriodStart"][:10])  # noqa: E731
    earlier = sorted((day(r), r["x_UsageType"], r["BilledCost"]) for r in billed if r not in logged)
    repeated = sorted(
        (day(r) - timedelta(days=30), r["x_UsageType"], r["BilledCost"])
        for r in logged
        if day(r) >= date.fromisoformat(window) + timedelta(days=5)
    )
    assert earlier == repeated and earlier
    billed_usd = sum(float(r["BilledCost"]) for r in billed)
    (table,) = [t for t in report["analysis"]["billing"]["tables"] if "component" in t["title"]]
    api = table["columns"].index("model APIs")  # the table is the export's whole 55 days
    assert sum(row[api] for row in table["rows"]) == pytest.approx(billed_usd, abs=0.01)
    # the untagged legacy ETL role is the LLM scanner's unowned spend and the billing export's
    # untagged model-API spend
    (unowned,) = by_rule(report)["llm-unowned-spend"]
    legacy = unowned["evidence"]["top_unowned"][0]
    assert "legacy-etl" in legacy["who"] and legacy["observed_usd"] == pytest.approx(by_hand[""], abs=0.01)
    (untagged,) = by_rule(report)["billing-untagged-ai-spend"]
    parts = untagged["evidence"]["untagged_by_component"]
    # (over the export's 55 days: the logs' untagged spend and the same rows' 25 repeated days)
    untagged_earlier = sum(float(r["BilledCost"]) for r in billed if r not in logged and r["Tags"] == "NULL")
    assert untagged_earlier > 0
    assert parts["model_api"] == pytest.approx(by_hand[""] + untagged_earlier, abs=0.01)
    # four g5.12xlarge launched by hand ($5.672 an hour, 24 h x 55 days) and the template's
    # untagged ml.g5.2xlarge endpoint ($1.408 an hour, 24 h x 55 days)
    assert parts["compute"] == pytest.approx(4 * 24 * 5.672 * 55 + 24 * 1.408 * 55, abs=0.01)


def _figures(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A report's LLM and billing findings: their rule, severity and money (the unit-economics
    ones aside: they need the demo's revenue files)."""
    return sorted(
        (f["rule_id"], f["severity"], f["estimated_monthly_savings_usd"], f["monthly_cost_usd"])
        for f in doc["findings"]
        if f["provider"] in ("llm", "billing") and not f["rule_id"].startswith("economics-")
    )


def _llm_and_billing_on(tmp_path: Path, now: datetime) -> dict[str, Any]:
    """The LLM and billing part of the demo as of `now`, scanned in this process."""
    import yaml
    from typer.testing import CliRunner

    from aifinops_cli.cli.app import app
    from aifinops_cli.demo import demo_inputs
    from aifinops_cli.demo.billing import demo_billing_paths
    from aifinops_cli.demo.llm import demo_llm_config, demo_llm_paths

    root = demo_inputs(now)
    config = tmp_path / f"{now:%Y%m%d}.yaml"
    config.write_text(yaml.safe_dump({"llm": demo_llm_config()}))
    args = ["--config", str(config), "scan", "--scanner", "llm", "--scanner", "billing", "--format", "json"]
    for path in demo_llm_paths(root / "llm"):
        args += ["--llm-logs", path]
    for path in demo_billing_paths(root / "billing"):
        args += ["--billing", path]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return json.loads(result.stdout)


def test_demo_figures_do_not_depend_on_the_day(tmp_path: Path, demo_dir: Path) -> None:
    # the sample reports are compared aside from dates: the figures must be the same whichever
    # day the demo runs. On March 2 the window (Jan 31 - Mar 1) spans February and the budget's
    # month-to-date is one day; it is compared with today's demo (the session's, whatever the
    # day: on December 31 its window is Dec 1-30, one calendar month, the month-to-date all of it)
    early = _figures(_llm_and_billing_on(tmp_path, datetime(2027, 3, 2, 9, tzinfo=UTC)))
    assert early == _figures(load(demo_dir))
    # not an empty scan: the agent loop's 1,399 repeated calls of $0.4635, over a 30-day window
    (loop,) = [f for f in early if f[0] == "llm-agent-loop"]
    assert loop[2] == pytest.approx(1399 * 0.4635 * MONTH_DAYS / 30, rel=1e-4)  # the window: ~30 days


def test_llm_spend_anomaly_is_the_deep_dive_hour_by_hand(demo_dir: Path) -> None:
    """The deep dive (120 calls of 120,000 input + 1,200 output tokens on Sonnet 4.5 at $3/$15
    per 1M, demo/llm.py) falls in one hour of the last 48: 120 x (0.36 + 0.018) = $45.36 on top
    of that hour's ordinary research sessions."""
    report = load(demo_dir)
    found = {f["resource_id"].rsplit(":", 2)[0]: f for f in by_rule(report)["llm-spend-anomaly"]}
    assert set(found) == {"team:research", "app:research-agent", "model:claude-sonnet-4-5-20250929"}
    team = found["team:research"]
    ev = team["evidence"]
    hour = datetime.strptime(ev["started"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    total, deep_dive = 0.0, 0
    for rec in jsonl(llm_file(report, "anthropic-agent.jsonl")):
        at = datetime.fromisoformat(rec["timestamp"].replace("Z", "+00:00"))
        if rec["metadata"]["team"] != "research" or not hour <= at < hour + timedelta(hours=1):
            continue
        u = rec["response"]["usage"]
        total += (
            u["input_tokens"] * 3.0
            + u["output_tokens"] * 15.0
            + u["cache_creation_input_tokens"] * 3.75
            + u["cache_read_input_tokens"] * 0.30
        ) / 1e6
        deep_dive += rec["session_id"] == "sess-deep-dive"
    assert deep_dive == 120
    assert total > 120 * (120000 * 3.0 + 1200 * 15.0) / 1e6 == pytest.approx(45.36)
    assert ev["actual_usd"] == pytest.approx(total, abs=0.01)
    assert ev["periods"] == 1 and ev["unit"] == "hour" and not ev["ongoing"]
    # the finding's money is the dollars above expected; an anomaly is no saving
    assert team["monthly_cost_usd"] == pytest.approx(ev["actual_usd"] - ev["expected_usd"], abs=0.01)
    assert team["estimated_monthly_savings_usd"] == 0
    assert team["severity"] == "low"  # under $100 above expected (rules/anomaly.yaml)
    scanned = datetime.fromisoformat(report["started_at"].replace("Z", "+00:00"))
    assert timedelta(hours=24) < scanned - hour < timedelta(hours=72)  # in the last 48 hours of logs


def test_non_ai_inter_region_flow_by_hand(demo_dir: Path) -> None:
    """The web server's nightly dumps to N. Virginia: 250 GB/day (the five-day wave averages 1.0
    over the FOCUS export's 55 days) x 55 days = 13,750 GB x $0.02 = $275.00 in 55 days,
    $275 x 30.4167 / 55 = $152.08 a month; 90% avoidable ($136.88 ~ 136.875)."""
    (flow,) = by_rule(load(demo_dir))["billing-inter-region-egress"]
    ev = flow["evidence"]
    assert (ev["source"], ev["destination"], ev["ai_related"]) == ("us-west-2", "us-east-1", 0.0)
    assert ev["top_resources"][0]["resource_id"] == "i-0demo0web01"
    assert ev["top_resources"][0]["gb"] == pytest.approx(250 * 55)
    assert ev["top_resources"][0]["cost"] == pytest.approx(250 * 55 * 0.02)
    assert flow["monthly_cost_usd"] == pytest.approx(275.0 * MONTH_DAYS / 55, abs=0.01)
    assert flow["estimated_monthly_savings_usd"] == pytest.approx(275.0 * MONTH_DAYS / 55 * 0.9, abs=0.01)
    assert flow["severity"] == "medium"  # $100-$1,000 a month


PLANS = {  # demo/economics.py: monthly revenue, included standard requests
    "acme": (60000.0, 8000),
    "globex": (90000.0, 8000),
    "stark": (48000.0, 8000),
    "umbrella": (36000.0, 5000),
    "hooli": (30000.0, 5000),
    "initech": (24000.0, 5000),
}


def test_economics_margins_allocation_and_what_ifs_by_hand(demo_dir: Path) -> None:
    report = load(demo_dir)
    ec = report["economics"]
    assert ec["totals"]["monthly_revenue_usd"] == 60000 + 90000 + 48000 + 36000 + 30000 + 24000  # 288,000
    assert ec["totals"]["gross_margin_usd"] == pytest.approx(
        288000 - ec["totals"]["total_cost_usd"], abs=0.01
    )
    customers = {u["name"]: u for u in ec["units"]["customer"]}
    assert set(PLANS) | {"(none)"} == set(customers)
    # the research GPU bill (team ml-research -> team research by config) goes to the two
    # customers the research agent serves, by token cost, and to nobody else
    table = next(
        t for t in report["analysis"]["billing"]["tables"] if t["title"].startswith("AI spend by owner")
    )
    months = report["analysis"]["billing"]["data"]["sources"][0]["period"]["months"]  # 30 / 30.4167
    gpu = next(line for line in ec["allocation"] if line["resource"] == "ml-research / compute/GPU")
    row = next(r for r in table["rows"] if r[0] == "ml-research")
    assert gpu["monthly_usd"] == pytest.approx(row[1] / months, abs=0.05)
    assert {sh["customer"] for sh in gpu["shares"]} == {"globex", "initech"}
    assert sum(sh["share"] for sh in gpu["shares"]) == pytest.approx(1.0, abs=1e-5)
    assert sum(u["infra_cost_usd"] for u in customers.values()) == pytest.approx(
        ec["totals"]["infra_cost_usd"], abs=0.05
    )
    # margins: revenue - (tokens + infrastructure); the rule fires above 30% of revenue, medium
    # from 60%, high from 100%: globex and initech only
    expected = {}
    for name, (revenue, _) in PLANS.items():
        u = customers[name]
        cost = u["token_cost_usd"] + u["infra_cost_usd"]
        assert u["monthly_revenue_usd"] == revenue
        assert u["gross_margin_usd"] == pytest.approx(revenue - cost, abs=0.01)
        share = 100 * cost / revenue
        assert u["ai_cost_share_pct"] == pytest.approx(share, abs=0.01)
        if share > 30:
            expected[f"customer:{name}"] = "high" if share >= 100 else "medium" if share >= 60 else "low"
    assert expected == {"customer:globex": "medium", "customer:initech": "high"}
    fired = {
        f["resource_id"]: f["severity"]
        for f in by_rule(report)["economics-ai-cost-share"]
        if f["resource_id"].startswith("customer:")
    }
    assert fired == expected
    # the what-ifs (demo/economics.py): cost x 1.4; $4 per successful session; a $20,000 fee +
    # $2 per standard request past the allowance + $1.50 per premium request, counts a month
    factor = ec["period"]["monthly_factor"]  # printed to 6 places: a few cents on 10,000 sessions
    for c in ec["pricing_whatif"]["customers"]:
        u = customers[c["customer"]]
        revenue, allowance = PLANS[c["customer"]]
        assert c["consumption"]["price_usd"] == pytest.approx(u["total_cost_usd"] * 1.4, abs=0.01)
        assert c["outcome"]["price_usd"] == pytest.approx(u["successful_sessions"] * factor * 4.0, abs=0.05)
        premium = u["premium_requests"] * factor
        standard = u["requests"] * factor - premium
        hybrid = 20000 + max(0.0, standard - allowance) * 2.0 + premium * 1.5
        assert c["hybrid"]["price_usd"] == pytest.approx(hybrid, abs=0.05)
        for model in ("consumption", "outcome", "hybrid"):
            change = c[model]["price_usd"] - revenue
            assert c[model]["change_vs_current_usd"] == pytest.approx(change, abs=0.01)
    # the story: consumption pricing charges the research-heavy two more, the other four less
    moves = {c["customer"]: c["consumption"]["customer"] for c in ec["pricing_whatif"]["customers"]}
    assert moves == {n: "pays more" if n in ("globex", "initech") else "pays less" for n in PLANS}
