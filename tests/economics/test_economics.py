"""Unit economics over the real LLM scanner's usage (tests/economics/conftest.py has the logs and
their costs worked out by hand; the month is exactly the observed 730 hours, factor 1.0)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import (
    HOURS_PER_MONTH,
    Confidence,
    CoverageEntry,
    Finding,
    Observation,
    Report,
    Severity,
)
from aifinops_cli.core.pipeline import ScanRequest, scan
from aifinops_cli.core.plugin import ScanOptions
from aifinops_cli.core.rules import evaluate, load_rules
from aifinops_cli.economics import add_to_report, build, observations, parse
from aifinops_cli.economics.infra import infra_lines
from aifinops_cli.economics.settings import EconomicsError, SelfHosted
from aifinops_cli.economics.whatif import hosting
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.billing.provider import BillingSettings
from tests.paths import TEST_DATA

SHARED = [
    {"name": "vector-db", "monthly_usd": 70, "app": "search-app"},
    {"name": "gpu-pool", "monthly_usd": 14},
]


def settings(econ_dir: Path, **extra):
    section = {"revenue": str(econ_dir / "plans.csv"), "allocation": {"shared": SHARED}, **extra}
    return parse(section)


def by_name(rows):
    return {r["name"]: r for r in rows}


def test_usage_keeps_the_scanners_per_request_costs(usage):
    rows = {r["session"]: r for r in usage.table.to_pylist()}
    assert usage.monthly_factor == pytest.approx(1.0)  # 730 h observed / 730 h month
    # s1: 2 x (100,000 x 1.00 + 50,000 x 2.00) / 1M = 2 x 0.20 = 0.40
    assert rows["s1"]["cost"] == pytest.approx(0.40)
    # s2: 10,000 x 10.00 / 1M + 5,000 x 20.00 / 1M = 0.10 + 0.10 = 0.20, premium, last request failed
    assert rows["s2"]["cost"] == pytest.approx(0.20)
    assert rows["s2"]["premium"] and rows["s2"]["last_status"] == "error"
    # the same tokens at std-model: 10,000 x 1.00 / 1M + 5,000 x 2.00 / 1M = 0.02
    assert rows["s2"]["cheaper_cost"] == pytest.approx(0.02)
    # all uncached input read from cache instead: 100,000 x 2 x (1.00 - 0.10) / 1M = 0.18
    assert rows["s1"]["cache_saving_max"] == pytest.approx(0.18)
    assert not rows["s1"]["session_ids"]  # no trace ids besides the session's own key


def test_shared_lines_are_allocated_by_tag_then_by_token_cost(usage, econ_dir):
    section = build(usage, settings(econ_dir))
    vector, gpu = section["allocation"]
    # vector-db names app search-app: globex's only cell, 70.00 x 1.0
    assert vector["scope"] == {"dimension": "app", "value": "search-app"}
    assert [(s["customer"], s["usd"]) for s in vector["shares"]] == [("globex", 70.0)]
    # gpu-pool names nothing: by token cost, globex 0.80 / 1.40, acme 0.60 / 1.40 of 14.00
    assert gpu["scope"]["dimension"] == "all" and gpu["scope_token_cost_usd"] == pytest.approx(1.40)
    shares = {s["customer"]: s for s in gpu["shares"]}
    assert shares["globex"]["usd"] == pytest.approx(14 * 0.8 / 1.4)  # 8.00
    assert shares["acme"]["usd"] == pytest.approx(14 * 0.6 / 1.4)  # 6.00
    assert shares["acme"]["share"] == pytest.approx(3 / 7, abs=1e-6)
    customers = by_name(section["units"]["customer"])
    assert customers["acme"]["infra_cost_usd"] == pytest.approx(6.00)
    assert customers["globex"]["infra_cost_usd"] == pytest.approx(78.00)  # 70 + 8
    # every allocated dollar is in the totals: 70 + 14
    assert section["totals"]["infra_cost_usd"] == pytest.approx(84.00)


def test_cost_per_request_session_and_successful_outcome(usage, econ_dir):
    section = build(usage, settings(econ_dir))
    acme = by_name(section["units"]["customer"])["acme"]
    # acme: tokens 0.40 + 0.20 = 0.60, infra 6.00, total 6.60 over 3 requests, 2 sessions,
    # 1 success (s1 ends ok, s2 ends in an error)
    assert acme["total_cost_usd"] == pytest.approx(6.60)
    assert acme["cost_per_request_usd"] == pytest.approx(6.60 / 3)  # 2.20
    assert acme["cost_per_session_usd"] == pytest.approx(6.60 / 2)  # 3.30
    assert acme["cost_per_successful_outcome_usd"] == pytest.approx(6.60 / 1)
    assert acme["cost_of_failed_usd"] == pytest.approx(0.20)  # s2's tokens: the cost of the pass
    teams = by_name(section["units"]["team"])
    assert teams["research"]["total_cost_usd"] == pytest.approx(0.80 + 78.0)
    models = by_name(section["units"]["model"])
    # token cost only by model: std 0.40 + 0.40, prem 0.20 + 0.40
    assert models["vllm/std-model"]["token_cost_usd"] == pytest.approx(0.80)
    assert models["vllm/prem-model"]["cost_of_failed_usd"] == pytest.approx(0.20)
    assert "infra_cost_usd" not in models["vllm/prem-model"]


def test_outcomes_file_decides_success(usage, econ_dir, tmp_path):
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("id,outcome\ns2,success\ns4,failure\ns9,maybe\n")
    section = build(usage, settings(econ_dir, outcomes={"file": str(outcomes)}))
    c = by_name(section["units"]["customer"])
    # acme: s2 succeeded, s1 is not listed (not a success): cost of failed = s1's 0.40
    assert c["acme"]["successful_sessions"] == 1 and c["acme"]["cost_of_failed_usd"] == pytest.approx(0.40)
    # globex: s4 failed, s3 not listed: no success, cost of failed 0.40 + 0.40
    assert c["globex"]["successful_sessions"] == 0
    assert c["globex"]["cost_per_successful_outcome_usd"] is None
    assert c["globex"]["cost_of_failed_usd"] == pytest.approx(0.80)
    assert section["skipped"] == [f"{outcomes}:4: outcome 'maybe' is not success or failure"]


def test_margins_and_unit_economics_findings(usage, econ_dir):
    section = build(usage, settings(econ_dir))
    c = by_name(section["units"]["customer"])
    # acme pays 20.00: margin 20.00 - 6.60 = 13.40 (67.0%), AI cost share 6.60 / 20 = 33.0%
    assert c["acme"]["gross_margin_usd"] == pytest.approx(13.40)
    assert c["acme"]["gross_margin_pct"] == pytest.approx(67.0)
    assert c["acme"]["ai_cost_share_pct"] == pytest.approx(33.0)
    # globex pays 100.00: margin 100 - 78.80 = 21.20, share 78.8%
    assert c["globex"]["gross_margin_usd"] == pytest.approx(21.20)
    # features: chat serves only acme (all its requests): revenue 20.00, margin 13.40
    assert by_name(section["units"]["feature"])["chat"]["gross_margin_usd"] == pytest.approx(13.40)
    assert section["totals"]["monthly_revenue_usd"] == pytest.approx(120.0)  # 20 + 100 + initech's 0
    found = {f.observation.id: f for f in evaluate(load_rules(), observations(section))}
    # max_cost_share_pct 30: acme 33.0% -> low; globex 78.8% -> medium (>= 60); savings 0
    assert found["customer:acme"].severity is Severity.LOW
    assert found["customer:globex"].severity is Severity.MEDIUM
    assert found["customer:acme"].monthly_cost_usd == pytest.approx(6.60)
    assert found["customer:acme"].estimated_monthly_savings_usd == 0
    assert found["customer:acme"].category == "unit-economics"


def test_pricing_what_ifs(usage, econ_dir):
    s = settings(
        econ_dir,
        pricing={
            "margin_pct": 50,
            "price_per_outcome": 5.0,
            "hybrid": {"platform_fee": 10, "standard_overage": 1.0, "premium_action": 2.0},
        },
    )
    rows = {r["customer"]: r for r in build(usage, s)["pricing_whatif"]["customers"]}
    acme, globex = rows["acme"], rows["globex"]
    # consumption: 6.60 x 1.5 = 9.90, margin 3.30, against 20.00 today: pays 10.10 less
    assert acme["consumption"]["price_usd"] == pytest.approx(9.90)
    assert acme["consumption"]["margin_usd"] == pytest.approx(3.30)
    assert acme["consumption"]["change_vs_current_usd"] == pytest.approx(-10.10)
    assert acme["consumption"]["customer"] == "pays less"
    # globex: 78.80 x 1.5 = 118.20, +18.20 on 100.00
    assert globex["consumption"]["price_usd"] == pytest.approx(118.20)
    assert globex["consumption"]["customer"] == "pays more"
    # outcome-based: acme 1 success x 5.00 = 5.00, margin 5.00 - 6.60 = -1.60; globex 2 x 5 = 10.00
    assert acme["outcome"]["price_usd"] == pytest.approx(5.00)
    assert acme["outcome"]["margin_usd"] == pytest.approx(-1.60)
    assert globex["outcome"]["price_usd"] == pytest.approx(10.00)
    # hybrid: acme 2 standard requests within its plan's 1,000 allowance, 1 premium x 2.00:
    # 10 + 0 + 2 = 12.00; globex's plan includes 0: 10 + 1 x 1.00 + 1 x 2.00 = 13.00
    assert acme["hybrid"]["price_usd"] == pytest.approx(12.00)
    assert acme["hybrid"]["margin_usd"] == pytest.approx(12.00 - 6.60)
    assert globex["hybrid"]["price_usd"] == pytest.approx(13.00)
    assert globex["hybrid"]["margin_usd"] == pytest.approx(13.00 - 78.80)


def test_model_and_hosting_what_ifs(usage, econ_dir):
    s = settings(
        econ_dir,
        caching={"hit_share": 0.5},
        self_hosted=[{"model": "std-*", "gpu_hour_usd": 0.001, "tokens_per_second": 1}],
    )
    models = {m["model"]: m for m in build(usage, s)["model_whatif"]}
    prem, std = models["prem-model"], models["std-model"]
    # prem-model replayed on std-model: 0.02 + 0.04 = 0.06 instead of 0.60: saves 0.54
    assert prem["cheaper_model"] == {"model": "std-model", "cost_usd": 0.06, "saving_usd": 0.54}
    # caching half the uncached input: 0.5 x (0.18 + 0.18) = 0.18 on std-model
    assert std["prompt_caching"]["saving_usd"] == pytest.approx(0.18)
    h = std["self_hosted"]
    # 600,000 tokens for 0.80 at the API: c = 0.80 / 600,000 USD per token. One GPU costs
    # 730 h x 0.001 = 0.73 and serves 1 x 3600 x 730 = 2,628,000 tokens; break-even
    # 0.73 / c = 0.73 x 600,000 / 0.80 = 547,500 tokens, 547,500 / 200,000 per request = 2.74 -> 3
    assert h["cost_usd"] == pytest.approx(0.73)
    assert h["saving_usd"] == pytest.approx(0.07)
    assert h["break_even_monthly_tokens"] == pytest.approx(547_500)
    assert h["break_even_monthly_requests"] == pytest.approx(3)
    assert h["capacity_tokens_per_gpu"] == pytest.approx(2_628_000)


def test_break_even_never_when_a_full_gpu_costs_more_than_its_tokens_at_the_api():
    # 1M tokens for 1.00 (1e-6 USD/token); a GPU-month is 730 x 2.00 = 1,460.00 and serves
    # 100 x 3600 x 730 = 262.8M tokens = 262.80 at the API: it never pays
    h = hosting(1_000_000, 1.00, SelfHosted("m", 2.0, 100.0))
    assert h.break_even_tokens is None
    assert h.self_hosted_usd == pytest.approx(HOURS_PER_MONTH * 2.0)
    # 3 GPUs minimum at 0.10/h: 3 x 73.00 = 219.00 fixed; at 1e-6 USD/token 1000 t/s GPUs
    # (2.628e9 tokens = 2,628.00 at the API per GPU > 73.00) break even at 219 / 1e-6 = 219M tokens
    h = hosting(1_000_000, 1.00, SelfHosted("m", 0.10, 1000.0, min_gpus=3))
    assert h.break_even_tokens == pytest.approx(219_000_000)
    assert h.gpus == 3


def test_stripe_invoices_export(usage, econ_dir, tmp_path):
    # the Dashboard's default invoice columns; amounts in dollars as the Dashboard writes them
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "id,Amount Due,Amount Paid,Amount Remaining,Attempt Count,Attempted,Billing,Closed,Currency,Customer,"
        "Customer Email,Customer Name,Date (UTC),Description,Number,Paid,Status,Subscription,Subtotal,Total\n"
        "in_1,30.00,30.00,0.00,1,true,charge_automatically,true,usd,cus_A,ops@acme.test,acme,"
        "2026-10-01 00:00:00,,A-1,true,paid,sub_1,30.00,30.00\n"
        "in_2,10.00,10.00,0.00,1,true,charge_automatically,true,usd,cus_A,ops@acme.test,acme,"
        "2026-11-01 00:00:00,,A-2,true,paid,sub_1,10.00,10.00\n"
        "in_3,99.00,0.00,99.00,1,true,charge_automatically,false,usd,cus_A,ops@acme.test,acme,"
        "2026-11-15 00:00:00,,A-3,false,open,sub_1,99.00,99.00\n"
        "in_4,80.00,80.00,0.00,1,true,charge_automatically,true,eur,cus_G,ap@globex.test,globex,"
        "2026-10-03 00:00:00,,G-1,true,paid,sub_2,80.00,80.00\n"
    )
    section = build(usage, parse({"stripe_invoices": str(invoices)}))
    acme = by_name(section["units"]["customer"])["acme"]
    # acme (matched by Customer Name): 30.00 + 10.00 paid over 2 months = 20.00 a month; the
    # open invoice does not count; tokens only here: margin 20.00 - 0.60 = 19.40
    assert acme["monthly_revenue_usd"] == pytest.approx(20.0)
    assert acme["gross_margin_usd"] == pytest.approx(19.40)
    assert section["skipped"] == [f"{invoices}:5: invoice in EUR, not converted"]
    assert section["customers_without_revenue"] == ["globex"]


def test_billing_exports_of_different_lengths_are_each_a_month_of_their_own(tmp_path):
    """Two exports in one scan: FOCUS for October and November 2026 (2 whole months) and the
    legacy CUR for March 2025 (1 month). Each one's AI spend is divided by its own months."""
    from tests.focus_export import HEADER, ROWS

    def november(row: str) -> str:  # the same charges a month later: first and last day present
        return (
            row.replace("2026-11-01,2026-10-01", "2026-12-01,2026-11-01")
            .replace("2026-10-02,2026-10-01", "2026-11-02,2026-11-01")
            .replace("2026-11-01,2026-10-31", "2026-12-01,2026-11-30")
            .replace("2026-10-16,2026-10-15", "2026-11-16,2026-11-15")
        )

    focus = tmp_path / "focus.csv"
    focus.write_text("\n".join([HEADER, *ROWS, *map(november, ROWS)]) + "\n")
    cur = TEST_DATA / "billing" / "cur_legacy.csv"
    config = Config()
    report = scan(
        ScanRequest(
            options=ScanOptions(settings={"billing": BillingSettings(paths=[str(focus), str(cur)])}),
            config=config,
            rules=load_rules([], config),
            prices=load_catalog(),
            today=date(2026, 12, 1),
        )
    ).report
    months = {s["source"]: s["period"]["months"] for s in report.analysis["billing"]["data"]["sources"]}
    assert months == {str(focus): 2.0, str(cur): 1.0}
    lines = {(line.source.split(":")[0], line.resource): line.monthly_usd for line in infra_lines(report)}
    assert lines == {
        # FOCUS, per month: the p4d $500 + $500 a month, 1,000 GB x $0.02 = $20, the untagged
        # SageMaker endpoint $500 (each twice over 2 months)
        (f"billing export {focus}", "ml-research / compute/GPU"): 1000.0,
        (f"billing export {focus}", "ml-research / data transfer"): 20.0,
        (f"billing export {focus}", "(untagged) / compute/GPU"): 500.0,
        # CUR, March 2025: the p4d, 100 h x $32.77 = $3,277, and the SageMaker endpoint, $300:
        # $3,577 of compute, and 1,000 GB x $0.02 = $20, over its one month (not halved by the
        # FOCUS export's two);
        # its $150 of untagged model APIs is left out: the request logs price those per request
        (f"billing export {cur}", "ml / compute/GPU"): 3577.0,
        (f"billing export {cur}", "ml / data transfer"): 20.0,
    }


def test_findings_are_infrastructure_without_a_billing_export(usage, econ_dir):
    obs = Observation("aws", "aws.ec2.instance", "i-1", tags={"team": "research"}, owner="research")
    gpu = Finding(
        "aws-ec2-idle-gpu",
        "idle",
        "zombie-infrastructure",
        Severity.HIGH,
        Confidence.HIGH,
        obs,
        146.0,
        146.0,
        "",
        {},
    )
    report = Report("t", "", "", [], [gpu], [CoverageEntry("llm", "f", "ok")], usage=usage)
    rules = load_rules()
    assert add_to_report(report, parse({"revenue": str(econ_dir / "plans.csv")}), rules)
    line = report.economics["allocation"][0]
    # the idle GPU (146.00 a month, tag team=research) goes to research's only customer, globex
    assert line["rule"].startswith("tag team=research")
    assert by_name(report.economics["units"]["customer"])["globex"]["infra_cost_usd"] == pytest.approx(146.0)
    # globex now costs 0.80 + 146.00 against 100.00: above 100% -> a high finding
    econ = [f for f in report.findings if f.rule_id == "economics-ai-cost-share"]
    assert {f.observation.id: f.severity for f in econ}["customer:globex"] is Severity.HIGH


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"pricing": {"margin_pct": "lots"}}, "config economics.pricing.margin_pct: expected a number"),
        ({"caching": {"hit_share": 1.5}}, "config economics.caching.hit_share: 1.5 must be from 0 to 1"),
        (
            {"outcomes": {"rule": "vibes"}},
            "config economics.outcomes.rule: 'vibes' is not one of status, file, tool, metadata",
        ),
        ({"revenu": "x.csv"}, "config economics.revenu: unknown setting"),
        (
            {"self_hosted": [{"model": "x", "gpu_hour_usd": 1, "tokens_per_second": 0}]},
            "tokens_per_second: must be above 0",
        ),
    ],
)
def test_bad_settings_are_one_line(section, message):
    with pytest.raises(EconomicsError) as exc:
        parse(section)
    assert message in str(exc.value)
    assert exc.value.exit_code == 2


def test_bad_plans_csv(usage, tmp_path):
    plans = tmp_path / "plans.csv"
    plans.write_text("name,price\nacme,10\n")
    with pytest.raises(EconomicsError, match="a plans CSV needs the columns customer, plan, monthly_revenue"):
        build(usage, parse({"revenue": str(plans)}))
    plans.write_text("customer,plan,monthly_revenue,included_allowance\nacme,x,ten,\nglobex,y,100,\n")
    section = build(usage, parse({"revenue": str(plans)}))
    assert section["skipped"] == [f"{plans}:2: no customer or monthly_revenue is not a number"]
    assert by_name(section["units"]["customer"])["globex"]["monthly_revenue_usd"] == 100.0
    with pytest.raises(EconomicsError, match="no such file"):
        build(usage, parse({"revenue": str(tmp_path / "missing.csv")}))


def test_kubernetes_gpu_pod_by_namespace(usage, econ_dir):
    # a GPU pod finding: its owner is its namespace (no owner label); config maps the namespace
    # to app search-app, served only by globex: 1 GPU x 730 h x 1.60 = 1,168.00 a month to globex
    pod = Observation(
        "k8s", "k8s.pod", "search-ns/vllm-0", owner="search-ns", tags={"app": "vllm"},
        attributes={"namespace": "search-ns"},
    )  # fmt: skip
    cost = 730 * 1.60
    idle = Finding(
        "k8s-gpu-pod-idle", "idle", "idle-cluster", Severity.HIGH, Confidence.HIGH, pod, cost, cost, "", {}
    )
    report = Report("t", "", "", [], [idle], [], usage=usage)
    section = build(usage, parse({"allocation": {"owners": {"search-ns": {"app": "search-app"}}}}), report)
    line = section["allocation"][0]
    assert line["rule"] == "config allocation.owners[search-ns]: split over app search-app by token cost"
    assert line["monthly_usd"] == pytest.approx(1168.0)
    assert by_name(section["units"]["customer"])["globex"]["infra_cost_usd"] == pytest.approx(1168.0)
    assert by_name(section["units"]["customer"])["acme"]["infra_cost_usd"] == 0


def test_project_config_names_no_revenue_file_outside_itself(tmp_path, monkeypatch):
    from aifinops_cli.core.config import ProjectConfig, load_config
    from aifinops_cli.core.yamlsrc import SourceError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "aifinops.yaml").write_text("economics:\n  revenue: /etc/passwd\n")
    with pytest.raises(SourceError, match=r"economics\.revenue: '/etc/passwd': \./aifinops\.yaml found"):
        load_config(ProjectConfig("aifinops.yaml"))


def test_hostile_customer_names_are_escaped_in_every_format(usage, econ_dir, tmp_path):
    import pyarrow as pa

    from aifinops_cli.core.models import UsageRollup
    from aifinops_cli.output.html import economics_html
    from aifinops_cli.output.markdown import economics_lines

    hostile = "<script>x</script>|[a](javascript:x)"
    table = usage.table.to_pylist()
    for row in table:
        row["customer"] = hostile
    rollup = UsageRollup(pa.Table.from_pylist(table, schema=usage.table.schema), 30.0, 1.0)
    section = build(rollup, parse({}))
    html = "".join(economics_html(section))
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = "\n".join(economics_lines(section))
    assert "<script>" not in md and "\\[a](javascript:x)" in md  # an escaped [ makes no link
    assert "\\|" in md  # a pipe in a name cannot open a table cell
