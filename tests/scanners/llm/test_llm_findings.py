"""Findings through the real scanner and the real rules, with savings computed by hand.

All logs here span less than a day, so the monthly factor is 730 / 24 = 30.4167 (one observed day).
"""

from __future__ import annotations

import json

import pytest

from aifinops_cli.core.plugin import ScannerError
from tests.llm_helpers import MONTH, findings, scan, write_jsonl

T12 = "2026-10-05T12:00:00Z"


def chat(model: str, pin: int, pout: int, cached: int = 0) -> dict:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1791201600,
        "model": model,
        "usage": {
            "prompt_tokens": pin,
            "completion_tokens": pout,
            "total_tokens": pin + pout,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def wrapped(ts: str, model: str, pin: int, pout: int, messages: list, meta: dict, **extra) -> dict:
    rec = {"timestamp": ts, "metadata": meta, "request": {"model": model, "messages": messages}, **extra}
    if pin is not None:
        rec["response"] = chat(model, pin, pout)
    return rec


def test_premium_simple_requests_repriced_at_cheaper_model(tmp_path):
    recs = [
        wrapped(
            f"2026-10-05T10:{i:02d}:00Z",
            "gpt-4o",
            400,
            5,
            [
                {
                    "role": "user",
                    "content": f"Classify ticket {i} as billing or bug. Respond with only the label",
                }
            ],
            {"team": "support", "app": "triage"},
        )
        for i in range(40)
    ]
    result = scan([str(write_jsonl(tmp_path / "a.jsonl", recs))])
    [f] = findings(result)["llm-premium-simple"]
    # per request gpt-4o: 400*2.50 + 5*10 = 1050 per 1M; gpt-4o-mini: 400*0.15 + 5*0.60 = 63 per 1M
    # 40 requests save 40 * (1050 - 63) / 1e6 = $0.03948; a month: 0.03948 * 30.4167 = $1.2009
    assert f.estimated_monthly_savings_usd == round(0.03948 * MONTH, 2) == 1.20
    assert f.monthly_cost_usd == round(40 * 1050 / 1e6 * MONTH, 2)
    assert f.observation.attributes["cheaper_model"] == "gpt-4o-mini"
    assert f.confidence.value == "high"  # classification-shaped text
    line = {c.unit for c in f.observation.cost_lines}
    assert line == {"1M tokens"} and all("genai-prices" in c.source for c in f.observation.cost_lines)


def test_runaway_agent_loop_and_its_waste(tmp_path):
    msgs = [{"role": "user", "content": "research"}, {"role": "user", "content": "tool error: 503, retry"}]
    recs = [
        {
            "timestamp": f"2026-10-05T10:00:{i * 5:02d}Z",
            "session_id": "loop-1",
            "metadata": {"team": "research", "app": "agent"},
            "request": {"model": "claude-sonnet-4-5", "messages": msgs},
            "response": {
                "id": f"m{i}",
                "type": "message",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {
                    "input_tokens": 10000,
                    "output_tokens": 100,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
        }
        for i in range(10)
    ]
    result = scan([str(write_jsonl(tmp_path / "m.jsonl", recs))])
    [f] = findings(result)["llm-agent-loop"]
    # each call: 10000*3 + 100*15 = 31500 per 1M = $0.0315; calls 2..10 repeat the signature:
    # 9 * 0.0315 = $0.2835 observed; a month: 0.2835 * 30.4167 = $8.6231
    assert f.estimated_monthly_savings_usd == round(0.2835 * MONTH, 2) == 8.62
    assert f.observation.metrics["max_repeats_in_window"] == 6  # window of 6 calls


def test_retry_storm_counts_billed_attempts_except_the_kept_one(tmp_path):
    msgs = [{"role": "user", "content": "summarise file 7"}]
    meta = {"team": "data", "app": "ingest"}
    recs = [
        wrapped(
            f"2026-10-05T03:00:0{i * 2}Z",
            "gpt-4o-mini",
            None,
            None,
            msgs,
            meta,
            status_code=429,
            error={"type": "rate_limit_exceeded"},
        )
        for i in range(3)
    ]
    recs.append(
        wrapped(
            "2026-10-05T03:00:07Z",
            "gpt-4o-mini",
            1000,
            200,
            msgs,
            meta,
            status_code=408,
            error={"type": "timeout"},
        )
    )
    recs.append(wrapped("2026-10-05T03:00:09Z", "gpt-4o-mini", 1000, 200, msgs, meta))
    result = scan([str(write_jsonl(tmp_path / "r.jsonl", recs))])
    [f] = findings(result)["llm-retry-storm"]
    assert f.observation.metrics["attempts"] == 5 and f.observation.metrics["errors"] == 4
    # the billed timeout: 1000*0.15 + 200*0.60 = 270 per 1M = $0.00027; a month: 0.00027*30.4167 = $0.0082
    assert f.observation.metrics["wasted_monthly_usd"] == pytest.approx(0.00027 * MONTH, abs=1e-6)
    assert f.estimated_monthly_savings_usd == 0.01


def test_duplicate_prompts_saved_at_cached_input_price(tmp_path):
    msgs = [{"role": "system", "content": "long policy"}, {"role": "user", "content": "refund policy?"}]
    recs = [
        wrapped(f"2026-10-05T1{i % 10}:00:00Z", "gpt-4o", 2000, 50, msgs, {"team": "cx", "app": "faq"})
        for i in range(10)
    ]
    result = scan([str(write_jsonl(tmp_path / "d.jsonl", recs))])
    [f] = findings(result)["llm-duplicate-prompt"]
    # 9 repeats * 2000 input tokens * (2.50 - 1.25) / 1e6 = $0.0225; a month: 0.0225 * 30.4167 = $0.6844
    assert f.estimated_monthly_savings_usd == round(0.0225 * MONTH, 2) == 0.68
    # a response cache saves the repeats' whole cost: 9 * (2000*2.5 + 50*10)/1e6 = $0.0495 -> 1.5067/month
    assert f.observation.metrics["response_cache_savings_monthly_usd"] == pytest.approx(
        0.0495 * MONTH, abs=1e-6
    )
    assert "prompt_preview" not in f.evidence and "long policy" not in json.dumps(f.evidence, default=str)


def test_duplicate_prompt_across_teams_owned_by_its_first_sender(tmp_path):
    msgs = [{"role": "user", "content": "summarise the weekly report"}]
    # later lines first in the file: the owner follows time, not file order or engine threads
    recs = [
        wrapped(f"2026-10-05T1{i}:00:00Z", "gpt-4o", 2000, 50, msgs, {"team": "search" if i else "data"})
        for i in reversed(range(8))
    ]
    for _ in range(3):
        [f] = findings(scan([str(write_jsonl(tmp_path / "d.jsonl", recs))]))["llm-duplicate-prompt"]
        assert f.observation.owner == "data"


def test_same_instant_in_two_files_goes_to_the_file_given_first(tmp_path):
    # ties in time are broken by file (in the order given), then line: the same inputs always
    # give the same owner, whichever line numbers the files happen to have
    msgs = [{"role": "user", "content": "summarise the weekly report"}]
    filler = wrapped("2026-10-05T11:00:00Z", "gpt-4o-mini", 10, 1, [{"role": "user", "content": "x"}], {})
    a = write_jsonl(tmp_path / "a.jsonl", [filler, wrapped(T12, "gpt-4o", 2000, 50, msgs, {"team": "alpha"})])
    b = write_jsonl(tmp_path / "b.jsonl", [wrapped(T12, "gpt-4o", 2000, 50, msgs, {"team": "beta"})])

    def owner(paths: list) -> str:
        [o] = [o for o in scan([str(p) for p in paths]).observations if o.kind == "llm.duplicate_prompt"]
        return o.owner

    assert owner([a, b]) == "alpha" and owner([b, a]) == "beta"


def test_timestamps_before_1970_or_after_9999(tmp_path):
    # Go's zero time and epoch numbers past year 9999 used to stop the whole LLM scan
    msgs = [{"role": "user", "content": "hi"}]
    recs = [
        wrapped(ts, "gpt-4o-mini", 100, 10, msgs, {"team": "t"})
        for ts in ("2026-10-05T10:00:00Z", "0001-01-01T00:00:00Z", "5e21")
    ]
    result = scan([str(write_jsonl(tmp_path / "t.jsonl", recs))])
    assert [c.status for c in result.coverage] == ["ok"]
    assert result.analysis["llm"]["summary"]["requests"] == 3


def test_prompt_shape_folds_case_like_lower(tmp_path):
    # a Turkish dotted capital I lowers to "i̇": "İS THIS SPAM" reads as "is this spam"
    line = json.dumps(
        wrapped(
            "2026-10-05T10:00:00Z",
            "gpt-4o",
            400,
            5,
            [{"role": "user", "content": "İS THIS SPAM? buy now"}],
            {"team": "cx"},
        ),
        ensure_ascii=False,
    )
    path = tmp_path / "tr.jsonl"
    path.write_text((line + "\n") * 40, encoding="utf-8")
    [o] = [o for o in scan([str(path)]).observations if o.kind == "llm.premium_simple"]
    assert o.metrics["simple_classify_share"] == 1.0


def test_show_prompts_puts_text_in_evidence(tmp_path):
    msgs = [{"role": "user", "content": "the secret prompt"}]
    recs = [wrapped(f"2026-10-05T1{i}:00:00Z", "gpt-4o", 2000, 50, msgs, {"team": "cx"}) for i in range(10)]
    result = scan([str(write_jsonl(tmp_path / "d.jsonl", recs))], show_prompts=True)
    [f] = findings(result)["llm-duplicate-prompt"]
    assert "the secret prompt" in f.evidence["prompt_preview"]


def test_budget_projection_and_unowned_spend(tmp_path):
    big = 100_000  # gpt-4o input tokens: 100000 * 2.50 / 1e6 = $0.25 per request
    recs = [
        wrapped("2026-11-01T00:00:00Z", "gpt-4o", big, 0, [], {"team": "search"}),
        wrapped("2026-11-05T00:00:00Z", "gpt-4o", big, 0, [], {"team": "search"}),
        wrapped("2026-11-05T00:00:00Z", "gpt-4o", big, 0, [], {"app": "orphan"}),
    ]
    result = scan([str(write_jsonl(tmp_path / "b.jsonl", recs))], llm={"budgets": {"team": {"search": 2.0}}})
    found = findings(result)
    [b] = found["llm-budget"]
    # the same observed period as every finding: 2026-11-01 .. 11-05, 4 days, factor 30.4167 / 4;
    # search spent $0.50 in it: 0.50 * 30.4167 / 4 = $3.8021 a month; 3.8021 - 2 = $1.80 over
    assert b.observation.metrics["projected_usd"] == pytest.approx(0.50 * MONTH / 4)
    assert b.estimated_monthly_savings_usd == 1.80 and b.monthly_cost_usd == 3.80
    assert b.observation.attributes["period"] == "2026-11-01 00:00 .. 2026-11-05 00:00 UTC"
    assert "observed period 2026-11-01 00:00 .. 2026-11-05 00:00 UTC (4.00 days)" in b.observation.evidence[0]
    [u] = found["llm-unowned-spend"]
    # one of three $0.25 requests has no team: share 1/3; 4 observed days -> 0.25 * 30.4167 / 4 = $1.90
    assert u.observation.metrics["unowned_share"] == pytest.approx(0.3333, abs=1e-4)
    assert u.monthly_cost_usd == round(0.25 * MONTH / 4, 2) and u.estimated_monthly_savings_usd == 0


def test_malformed_lines_counted_reported_and_strict(tmp_path):
    good = wrapped("2026-10-05T10:00:00Z", "gpt-4o-mini", 100, 10, [], {"team": "t"})
    path = write_jsonl(tmp_path / "m.jsonl", [good, "{not json", good, '{"hello": "world"}', good])
    result = scan([str(path)])
    llm = result.analysis["llm"]
    assert llm["summary"]["requests"] == 3 and llm["summary"]["unparseable records"] == 2
    assert [(e["line"], e["problem"][:14]) for e in llm["data"]["malformed_examples"]] == [
        (2, "not valid JSON"),
        (4, "no model or to"),
    ]
    [cov] = result.coverage
    assert cov.status == "partial" and cov.errors == 2
    with pytest.raises(ScannerError, match=r"2 malformed .*m.jsonl:2"):
        scan([str(path)], strict=True)


def test_wrong_format_flag_and_missing_file_are_one_line_coverage(tmp_path):
    good = wrapped("2026-10-05T10:00:00Z", "gpt-4o-mini", 100, 10, [], {"team": "t"})
    path = write_jsonl(tmp_path / "a.jsonl", [good])
    result = scan([str(path), str(tmp_path / "missing.jsonl")], llm_log_format="bedrock")
    messages = {c.scope: (c.status, c.message) for c in result.coverage}
    assert messages[str(path)][0] == "failed" and "looks like openai" in messages[str(path)][1]
    assert messages[str(tmp_path / "missing.jsonl")] == ("failed", "no such file or directory")
