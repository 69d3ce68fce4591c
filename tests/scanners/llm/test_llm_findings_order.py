"""Each wasted request counted once: the claim order (retry storm, loop, duplicate prompt, premium
misuse, token burn), loops only on evidence of repetition, a loop's success never its waste, and
budgets over the observed period. Real scanner, real rules; every amount computed by hand here.

Prices (genai-prices, USD per 1M tokens): gpt-4o input 2.50, cached input 1.25, output 10;
gpt-4.1 input 2.00, output 8.00. Logs shorter than a day count as one day: x30.4167 (730 h / 24) a month.
"""

from __future__ import annotations

import pytest

from tests.llm_helpers import MONTH, findings, scan, write_jsonl


def call(
    ts: str,
    model: str,
    pin: int,
    pout: int,
    *,
    messages: list | None = None,
    session: str | None = None,
    app: str = "agent",
    status: int | None = None,
    choices: list | None = None,
) -> dict:
    """An OpenAI chat completion wrapped with its request, as gateways log it."""
    rec: dict = {
        "timestamp": ts,
        "metadata": {"team": "research", "app": app},
        "request": {"model": model, **({"messages": messages} if messages else {})},
        "response": {
            "id": f"chatcmpl-{ts}",
            "object": "chat.completion",
            "created": 1791201600,
            "model": model,
            **({"choices": choices} if choices else {}),
            "usage": {"prompt_tokens": pin, "completion_tokens": pout, "total_tokens": pin + pout},
        },
    }
    if session:
        rec["session_id"] = session
    if status:
        rec["status_code"] = status
        rec["error"] = {"type": "timeout"}
    return rec


STEP = [{"role": "user", "content": "check the build status"}]


def test_retry_inside_loop_and_duplicates_each_request_claimed_once(tmp_path):
    # session s1 repeats one step every minute (a loop); its 10:02 step is a retry storm of four
    # billed timeouts 1 s apart, then a success; later a batch job sends the same prompt 4 times.
    # Every call: 10,000 input + 100 output tokens of gpt-4o = 10000*2.5 + 100*10 = 26,000 per 1M = $0.026
    recs = [
        call(f"2026-10-05T10:0{m}:00Z", "gpt-4o", 10000, 100, messages=STEP, session="s1")
        for m in (0, 1, 3, 4)
    ]
    recs += [
        call(f"2026-10-05T10:02:0{s}Z", "gpt-4o", 10000, 100, messages=STEP, session="s1", status=408)
        for s in range(4)
    ]
    recs.append(call("2026-10-05T10:02:04Z", "gpt-4o", 10000, 100, messages=STEP, session="s1"))
    recs += [
        call(f"2026-10-05T1{h}:00:00Z", "gpt-4o", 10000, 100, messages=STEP, app="batch")
        for h in (1, 2, 3, 4)
    ]
    result = scan([str(write_jsonl(tmp_path / "s.jsonl", recs))])
    found = findings(result)

    # 1. retry storm: 5 attempts, the 4 failed ones are waste: 4 * 0.026 = $0.104; x30.4167 = $3.1633
    [retry] = found["llm-retry-storm"]
    assert retry.observation.metrics["attempts"] == 5 and retry.observation.metrics["errors"] == 4
    assert retry.observation.metrics["observed_wasted_usd"] == pytest.approx(4 * 0.026)
    assert retry.estimated_monthly_savings_usd == round(4 * 0.026 * MONTH, 2) == 3.16
    # 2. loop: the steps left are 10:00, 10:01, 10:02:04 (the retry's kept success), 10:03, 10:04,
    # the failed attempts are the retry's, not loop steps: 5 repeats; the last success (10:04) is
    # kept, 4 * 0.026 = $0.104 is the loop's waste; x30.4167 = $3.1633
    [loop] = found["llm-agent-loop"]
    assert loop.observation.metrics["max_repeats_in_window"] == 5
    assert loop.observation.metrics["repeated_calls"] == 4
    assert loop.observation.metrics["observed_repeated_cost_usd"] == pytest.approx(4 * 0.026)
    assert loop.estimated_monthly_savings_usd == round(4 * 0.026 * MONTH, 2) == 3.16
    # 3. duplicate prompt: of the 13 requests with this prompt, retries and loop steps are claimed;
    # left are the loop's kept call (first) and the batch job's 4 repeats: 5 requests, 4 repeats;
    # prompt caching saves 4 * 10000 * (2.50 - 1.25) / 1e6 = $0.05; x30.4167 = $1.5208
    [dup] = found["llm-duplicate-prompt"]
    assert dup.observation.metrics["requests"] == 5 and dup.observation.metrics["repeats"] == 4
    assert dup.observation.metrics["observed_prompt_cache_savings_usd"] == pytest.approx(0.05)
    assert dup.observation.metrics["observed_repeat_cost_usd"] == pytest.approx(4 * 0.026)
    assert dup.estimated_monthly_savings_usd == round(0.05 * MONTH, 2) == 1.52
    # totals: 4 + 4 + 4 = 12 of the 13 requests claimed, each once; waste 0.104 + 0.104 + 0.05 = $0.258
    claims = {c["kind"]: c for c in result.analysis["llm"]["data"]["waste_claims"]}
    assert [claims[k]["requests"] for k in ("retry", "loop", "duplicate", "premium")] == [4, 4, 4, 0]
    assert sum(c["observed_wasted_usd"] for c in claims.values()) == pytest.approx(0.104 + 0.104 + 0.05)
    assert sum(c["observed_cost_usd"] for c in claims.values()) == pytest.approx(12 * 0.026)
    llm_savings = sum(f.estimated_monthly_savings_usd for fs in found.values() for f in fs)
    assert llm_savings == pytest.approx(3.16 + 3.16 + 1.52)  # the rounded findings: $7.84


def test_similar_token_sizes_without_prompts_are_not_a_loop(tmp_path):
    # five calls of ~5,000 tokens in one session, no prompt text, no reply: nothing repeats
    recs = [call(f"2026-10-05T10:00:0{i}Z", "gpt-4o", 5000 + i * 10, 100, session="s9") for i in range(5)]
    result = scan([str(write_jsonl(tmp_path / "n.jsonl", recs))])
    assert "llm-agent-loop" not in findings(result)
    assert all(
        o.metrics["max_repeats_in_window"] == 1 for o in result.observations if o.kind == "llm.session"
    )
    assert all(c["requests"] == 0 for c in result.analysis["llm"]["data"]["waste_claims"])


def tool_reply(args: str, call_id: str) -> list:
    return [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": "web_search", "arguments": args}}
                ],
            },
        }
    ]


def test_loop_found_by_repeated_tool_call_without_prompts(tmp_path):
    # no prompt logged; the model asks for the same tool call (new call ids) 4 times, then another
    # gpt-4.1, 3,000 input + 50 output tokens: 3000*2.00 + 50*8.00 = 6,400 per 1M = $0.0064 a call
    same = '{"query": "weather in Paris"}'
    recs = [
        call(
            f"2026-10-05T10:00:{i * 10:02d}Z",
            "gpt-4.1",
            3000,
            50,
            session="t1",
            choices=tool_reply(same, f"call_{i}"),
        )
        for i in range(4)
    ]
    recs.append(
        call(
            "2026-10-05T10:00:50Z",
            "gpt-4.1",
            3000,
            50,
            session="t1",
            choices=tool_reply('{"query": "news"}', "call_9"),
        )
    )
    result = scan([str(write_jsonl(tmp_path / "t.jsonl", recs))])
    [loop] = findings(result)["llm-agent-loop"]
    # 4 identical tool calls; the last is kept, 3 * 0.0064 = $0.0192; x30.4167 = $0.5840
    assert loop.observation.metrics["max_repeats_in_window"] == 4
    assert loop.observation.metrics["observed_repeated_cost_usd"] == pytest.approx(3 * 0.0064)
    assert loop.estimated_monthly_savings_usd == round(3 * 0.0064 * MONTH, 2) == 0.58
    assert loop.observation.attributes["repetition_evidence"] == "same reply (tool calls or text)"


def test_a_loops_only_success_is_kept_not_counted_as_waste(tmp_path):
    # the same step sent 4 times 40 s apart (too far apart for a retry burst): three billed
    # timeouts of 1,000 input tokens (1000*2.50 = $0.0025 each), then one success of 1,000 input +
    # 500 output (2500 + 5000 = $0.0075). The success is kept; the waste is the 3 failures:
    # 3 * 0.0025 = $0.0075 (counting the success instead would give 2 * 0.0025 + 0.0075 = $0.0125)
    recs = [
        call(ts, "gpt-4o", 1000, 0, messages=STEP, session="f1", status=408)
        for ts in ("2026-10-05T10:00:00Z", "2026-10-05T10:00:40Z", "2026-10-05T10:01:20Z")
    ]
    recs.append(call("2026-10-05T10:02:00Z", "gpt-4o", 1000, 500, messages=STEP, session="f1"))
    result = scan([str(write_jsonl(tmp_path / "f.jsonl", recs))])
    found = findings(result)
    assert "llm-retry-storm" not in found
    [loop] = found["llm-agent-loop"]
    assert loop.observation.metrics["repeated_calls"] == 3
    assert loop.observation.metrics["observed_repeated_cost_usd"] == pytest.approx(0.0075)
    assert loop.estimated_monthly_savings_usd == round(0.0075 * MONTH, 2) == 0.23


def test_budget_runs_over_the_observed_period_not_the_calendar_month(tmp_path):
    # gpt-4o, 100,000 input tokens = $0.25 a request; two in October, one in November
    big = 100_000
    recs = [
        call(ts, "gpt-4o", big, 0)
        for ts in ("2026-10-20T00:00:00Z", "2026-10-27T00:00:00Z", "2026-11-03T00:00:00Z")
    ]
    result = scan(
        [str(write_jsonl(tmp_path / "b.jsonl", recs))], llm={"budgets": {"team": {"research": 1.0}}}
    )
    [b] = findings(result)["llm-budget"]
    m = b.observation.metrics
    # observed period 2026-10-20 .. 11-03 = 14 days, the same as every finding: $0.75 over it,
    # 0.75 * 30.4167 / 14 = $1.6295 a month; $0.63 over the $1 budget. November so far: $0.25
    assert m["observed_days"] == 14 and m["monthly_factor"] == pytest.approx(MONTH / 14, abs=1e-6)
    assert m["projected_usd"] == pytest.approx(0.75 * MONTH / 14, abs=1e-6)
    assert b.estimated_monthly_savings_usd == round(0.75 * MONTH / 14 - 1.0, 2) == 0.63
    assert m["month_to_date_usd"] == pytest.approx(0.25) and m["spent_pct"] == pytest.approx(25.0)
    assert b.observation.attributes["period"] == "2026-10-20 00:00 .. 2026-11-03 00:00 UTC"
    assert (
        "observed period 2026-10-20 00:00 .. 2026-11-03 00:00 UTC (14.00 days)" in b.observation.evidence[0]
    )


def test_a_retry_storm_session_is_not_also_token_burn(tmp_path):
    # app "chat": five normal sessions of one $0.026 call each (gpt-4o, 10,000 in + 100 out), and
    # one session whose call was attempted 13 times 1 s apart: 12 billed timeouts, then a success.
    recs = [
        call(
            f"2026-10-05T0{i}:00:00Z",
            "gpt-4o",
            10000,
            100,
            app="chat",
            session=f"ok{i}",
            messages=[{"role": "user", "content": f"question {i}"}],
        )
        for i in range(5)
    ]
    recs += [
        call(
            f"2026-10-05T10:00:{s:02d}Z",
            "gpt-4o",
            10000,
            100,
            app="chat",
            session="storm",
            messages=STEP,
            status=408,
        )
        for s in range(12)
    ]
    recs.append(
        call("2026-10-05T10:00:12Z", "gpt-4o", 10000, 100, app="chat", session="storm", messages=STEP)
    )
    found = findings(scan([str(write_jsonl(tmp_path / "b.jsonl", recs))]))
    # the retry storm claims the 12 failed attempts: 12 * 0.026 = $0.312; x30.4167 = $9.4900
    [retry] = found["llm-retry-storm"]
    assert retry.estimated_monthly_savings_usd == round(12 * 0.026 * MONTH, 2) == 9.49
    # the session cost 13 * 0.026 = $0.338, 13x the app median ($0.026); what is left after the
    # retry storm's claim is one call, $0.026, 1x the median: no token burn counts it again
    assert "llm-token-burn" not in found and "llm-agent-loop" not in found
