"""Outcome rules `tool` (the last tool a session called) and `metadata` (the last `outcome` value
logged), over vendor-shaped logs read by the real LLM scanner.

The shapes follow the vendors' documented responses: OpenAI Chat Completions
`choices[].message.tool_calls[].function.name` and request `metadata` (string pairs), the
Responses API `output[]` items `{type: function_call, name, arguments}`, Anthropic Messages
`content[]` blocks `{type: tool_use, id, name, input}`.

Prices (llm.prices): std-model in 1.00 / out 2.00 USD per 1M tokens. Every request is 100,000
in + 50,000 out = 0.10 + 0.10 = 0.20 USD. The logs span 2026-10-01 00:00 to 2026-10-31 10:00 =
730 h = one month (factor 1.0).

    session customer requests (format)          last tool      last outcome value
    t1      acme     2 (chat completions)       submit_order   success
    t2      acme     2 (chat; 2nd answers text) search_docs    failed
    t3      globex   1 (Anthropic Messages)     finish_task    false
    t4      globex   1 (Responses API)          submit_order   (none)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.economics import build, parse
from aifinops_cli.economics.settings import EconomicsError
from tests.llm_helpers import context, write_jsonl

PRICES = [{"model": "std-model", "provider": "vllm", "input_per_1m": 1.0, "output_per_1m": 2.0}]
USAGE = {"prompt_tokens": 100000, "completion_tokens": 50000, "total_tokens": 150000}


def _chat(rid: str, ts: str, session: str, customer: str, tools: list[str], outcome: str | None) -> dict:
    message: dict = {"role": "assistant", "content": None if tools else "Here is the answer."}
    if tools:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": t, "arguments": "{}"}}
            for i, t in enumerate(tools)
        ]
    meta = {"customer": customer, **({"outcome": outcome} if outcome else {})}
    return {
        "timestamp": ts,
        "provider": "vllm",
        "session_id": session,
        "metadata": meta,
        "response": {
            "id": rid,
            "object": "chat.completion",
            "created": 1790000000,
            "model": "std-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
            "usage": USAGE,
        },
    }


@pytest.fixture(scope="module")
def usage(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("outcomes")
    chat = write_jsonl(
        root / "chat.jsonl",
        [
            _chat("c1", "2026-10-01T00:00:00Z", "t1", "acme", ["search_docs"], None),
            _chat("c2", "2026-10-02T00:00:00Z", "t1", "acme", ["lookup", "submit_order"], "success"),
            _chat("c3", "2026-10-03T00:00:00Z", "t2", "acme", ["search_docs"], None),
            _chat("c4", "2026-10-04T00:00:00Z", "t2", "acme", [], "failed"),
        ],
    )
    anthropic = write_jsonl(
        root / "anthropic.jsonl",
        [
            {
                "timestamp": "2026-10-31T10:00:00Z",
                "provider": "vllm",
                "session_id": "t3",
                "metadata": {"customer": "globex", "outcome": "false"},
                "response": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "std-model",
                    "content": [
                        {"type": "text", "text": "Done."},
                        {"type": "tool_use", "id": "toolu_1", "name": "finish_task", "input": {}},
                    ],
                    "stop_reason": "tool_use",
                    "usage": {"input_tokens": 100000, "output_tokens": 50000},
                },
            }
        ],
    )
    responses = write_jsonl(
        root / "responses.jsonl",
        [
            {
                "timestamp": "2026-10-15T00:00:00Z",
                "provider": "vllm",
                "session_id": "t4",
                "metadata": {"customer": "globex"},
                "response": {
                    "id": "resp_1",
                    "object": "response",
                    "model": "std-model",
                    "output": [
                        {"type": "reasoning", "id": "rs_1", "summary": []},
                        {
                            "type": "function_call",
                            "id": "fc_1",
                            "call_id": "call_1",
                            "name": "submit_order",
                            "arguments": "{}",
                        },
                    ],
                    "usage": {"input_tokens": 100000, "output_tokens": 50000, "total_tokens": 150000},
                },
            }
        ],
    )
    from aifinops_cli.scanners.llm.scanner import LlmLogScanner

    llm = {"prices": PRICES}
    ctx = context([str(chat), str(anthropic), str(responses)], llm)
    # a non-empty `economics:` section makes the scanner hand over its usage rollup
    ctx.config = Config(sections={"llm": llm, "economics": {"outcomes": {"rule": "metadata"}}})
    result = LlmLogScanner(ctx).scan()
    assert result.usage is not None
    return result.usage


def _customers(section):
    return {c["name"]: c for c in section["units"]["customer"]}


def test_the_formats_carry_the_last_tool_and_the_outcome_value(usage):
    rows = {r["session"]: r for r in usage.table.to_pylist()}
    assert rows["t1"]["last_tool"] == "submit_order" and rows["t1"]["last_outcome"] == "success"
    # t2's last reply is text: the last tool called in the session is still search_docs
    assert rows["t2"]["last_tool"] == "search_docs" and rows["t2"]["last_outcome"] == "failed"
    assert rows["t3"]["last_tool"] == "finish_task" and rows["t3"]["last_outcome"] == "false"
    assert rows["t4"]["last_tool"] == "submit_order" and rows["t4"]["last_outcome"] is None
    assert rows["t1"]["cost"] == pytest.approx(0.40)  # 2 x 0.20


def test_rule_tool(usage):
    section = build(usage, parse({"outcomes": {"rule": "tool", "tools": ["submit_*", "finish*"]}}))
    c = _customers(section)
    # acme: t1 ends in submit_order (success), t2 in search_docs (failed, 2 x 0.20 = 0.40)
    assert c["acme"]["successful_sessions"] == 1
    assert c["acme"]["cost_of_failed_usd"] == pytest.approx(0.40)
    # cost per successful outcome: all of acme's 4 x 0.20 = 0.80 over its 1 success
    assert c["acme"]["cost_per_successful_outcome_usd"] == pytest.approx(0.80)
    # globex: t3 finish_task and t4 submit_order both succeed: 2 x 0.20 / 2 = 0.20 each
    assert c["globex"]["successful_sessions"] == 2
    assert c["globex"]["cost_of_failed_usd"] == pytest.approx(0.0)
    assert c["globex"]["cost_per_successful_outcome_usd"] == pytest.approx(0.20)
    assert section["outcome_rule"] == "tool: the last tool the session called is submit_* or finish*"


def test_rule_metadata(usage):
    section = build(usage, parse({"outcomes": {"rule": "metadata"}}))
    c = _customers(section)
    # acme: t1 "success" succeeds, t2 "failed" fails (0.40)
    assert c["acme"]["successful_sessions"] == 1
    assert c["acme"]["cost_of_failed_usd"] == pytest.approx(0.40)
    # globex: t3 "false" fails, t4 logs no outcome: fails; failed 0.20 + 0.20 = 0.40, no success
    assert c["globex"]["successful_sessions"] == 0
    assert c["globex"]["cost_of_failed_usd"] == pytest.approx(0.40)
    assert c["globex"]["cost_per_successful_outcome_usd"] is None
    # values of your own: "false" now counts as success (t3), 1 success of 0.40 total
    section = build(usage, parse({"outcomes": {"rule": "metadata", "success_values": ["FALSE"]}}))
    g = _customers(section)["globex"]
    assert g["successful_sessions"] == 1 and g["cost_per_successful_outcome_usd"] == pytest.approx(0.40)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"outcomes": {"rule": "tool"}}, "config economics.outcomes.tools: rule 'tool' needs the tool names"),
        (
            {"outcomes": {"rule": "metadata", "success_values": {"a": 1}}},
            "config economics.outcomes.success_values: expected a list of names",
        ),
    ],
)
def test_bad_outcome_settings_are_one_line(section, message):
    with pytest.raises(EconomicsError) as exc:
        parse(section)
    assert message in str(exc.value) and exc.value.exit_code == 2


def test_plain_csv_carries_outcome_and_tool_name(tmp_path: Path):
    from aifinops_cli.scanners.llm.scanner import LlmLogScanner

    logs = tmp_path / "plain.csv"
    logs.write_text(
        "timestamp,provider,model,input_tokens,output_tokens,session_id,customer,outcome,tool_name\n"
        "2026-10-01T00:00:00Z,vllm,std-model,100000,50000,p1,acme,,submit_order\n"
        "2026-10-31T10:00:00Z,vllm,std-model,100000,50000,p1,acme,resolved,\n"
    )
    ctx = context([str(logs)], {"prices": PRICES})
    ctx.config = Config(sections={"llm": {"prices": PRICES}, "economics": {"outcomes": {"rule": "metadata"}}})
    usage = LlmLogScanner(ctx).scan().usage
    assert usage is not None
    (row,) = usage.table.to_pylist()
    assert (row["last_tool"], row["last_outcome"]) == ("submit_order", "resolved")
    # "resolved" is a default success value: 1 success for 2 x 0.20 = 0.40
    acme = _customers(build(usage, parse({"outcomes": {"rule": "metadata"}})))["acme"]
    assert acme["cost_per_successful_outcome_usd"] == pytest.approx(0.40)
