"""Agent loops found from the reply alone (no prompt logged) in the OpenAI Responses API, Gemini /
Vertex generateContent and Bedrock (Converse in invocation logs and batch output): the model asks
for the same tool call again and again. Records built from each vendor's documented response
shape; call ids, item ids and reasoning items change on every call and must not hide the repeat.
Real engine, real rules; savings computed by hand here.

Prices (genai-prices, USD per 1M tokens, standard rate): gpt-4.1 2.00 in / 8.00 out;
gemini-2.5-flash 0.30 / 2.50; Bedrock anthropic.claude-3-5-haiku 0.80 / 4.00. Logs shorter
than a day count as one day: x30.4167 (730 h / 24) a month. A loop's last call is kept, the earlier repeats
are the waste.
"""

from __future__ import annotations

import json

import pytest

from tests.llm_helpers import MONTH, findings, priced_rows, scan, write_jsonl


def responses_call(i: int, args: str, session: str = "r1") -> dict:
    """A Responses API object (`output` items) as a gateway logs it, with its session."""
    return {
        "timestamp": f"2026-10-05T10:00:{i * 5:02d}Z",
        "session_id": session,
        "metadata": {"team": "research"},
        "response": {
            "id": f"resp_{i}",
            "object": "response",
            "created_at": 1791194400 + i,
            "status": "completed",
            "model": "gpt-4.1",
            "output": [
                {"type": "reasoning", "id": f"rs_{i}", "summary": []},
                {
                    "type": "function_call",
                    "id": f"fc_{i}",
                    "call_id": f"call_{i}",
                    "name": "get_weather",
                    "arguments": args,
                    "status": "completed",
                },
            ],
            "usage": {
                "input_tokens": 3000,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 50,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 3050,
            },
        },
    }


def test_responses_api_tool_call_loop_without_prompts(tmp_path):
    same = '{"location": "Paris"}'
    recs = [responses_call(i, same) for i in range(4)] + [responses_call(4, '{"location": "Rome"}')]
    path = write_jsonl(tmp_path / "responses.jsonl", recs)
    rows = priced_rows(path)
    assert {r["fmt"] for r in rows} == {"openai"} and all(r["prompt_hash"] is None for r in rows)
    # new call, item and reasoning ids every time: the same reply hash for the four Paris calls
    assert len({r["reply_hash"] for r in rows[:4]}) == 1 and rows[4]["reply_hash"] != rows[0]["reply_hash"]
    # each call: 3000*2.00 + 50*8.00 = 6,400 per 1M = $0.0064
    assert rows[0]["cost"] == pytest.approx(0.0064)
    [loop] = findings(scan([str(path)]))["llm-agent-loop"]
    # 4 repeats; the last kept, 3 * 0.0064 = $0.0192; x30.4167 = $0.5840
    assert loop.observation.metrics["max_repeats_in_window"] == 4
    assert loop.observation.metrics["observed_repeated_cost_usd"] == pytest.approx(3 * 0.0064)
    assert loop.estimated_monthly_savings_usd == round(3 * 0.0064 * MONTH, 2) == 0.58
    assert loop.observation.attributes["repetition_evidence"] == "same reply (tool calls or text)"


def test_responses_api_text_reply_is_evidence_too(tmp_path):
    def text_call(i: int, text: str) -> dict:
        rec = responses_call(i, "{}", session="r2")
        rec["response"]["output"] = [
            {
                "type": "message",
                "id": f"msg_{i}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
        return rec

    rows = priced_rows(
        write_jsonl(
            tmp_path / "t.jsonl",
            [text_call(i, "The build is still running.") for i in range(3)]
            + [text_call(3, "The build passed.")],
        )
    )
    assert len({r["reply_hash"] for r in rows[:3]}) == 1 and rows[3]["reply_hash"] != rows[0]["reply_hash"]
    assert all(r["reply_hash"] for r in rows)


def gemini_call(i: int, part: dict, session: str) -> dict:
    """A generateContent response (candidates[].content.parts[]) wrapped with its session."""
    return {
        "timestamp": f"2026-10-05T11:00:{i * 5:02d}Z",
        "session_id": session,
        "metadata": {"team": "research"},
        "response": {
            "candidates": [
                {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 2000, "candidatesTokenCount": 20, "totalTokenCount": 2020},
            "modelVersion": "gemini-2.5-flash",
            "responseId": f"resp-{i}",
        },
    }


def test_gemini_function_call_loop_without_prompts(tmp_path):
    call = {"functionCall": {"name": "search_files", "args": {"pattern": "*.log"}}}
    recs = [gemini_call(i, call, "g1") for i in range(4)]
    recs.append(
        gemini_call(4, {"functionCall": {"name": "search_files", "args": {"pattern": "*.txt"}}}, "g1")
    )
    # a second session repeating a text answer three times: a loop by its text
    recs += [gemini_call(10 + i, {"text": "I could not open the file."}, "g2") for i in range(3)]
    path = write_jsonl(tmp_path / "gemini.jsonl", recs)
    rows = priced_rows(path)
    assert {r["fmt"] for r in rows} == {"gemini"}
    assert len({r["reply_hash"] for r in rows[:4]}) == 1 and rows[4]["reply_hash"] != rows[0]["reply_hash"]
    # each call: 2000*0.30 + 20*2.50 = 600 + 50 = 650 per 1M = $0.00065
    assert rows[0]["cost"] == pytest.approx(0.00065)
    loops = {f.observation.id: f for f in findings(scan([str(path)]))["llm-agent-loop"]}
    # g1: 4 repeats, 3 * 0.00065 = $0.00195 wasted; x30.4167 = $0.0593
    assert loops["g1"].observation.metrics["observed_repeated_cost_usd"] == pytest.approx(3 * 0.00065)
    assert loops["g1"].estimated_monthly_savings_usd == round(3 * 0.00065 * MONTH, 2) == 0.06
    # g2: 3 repeats of the text, 2 * 0.00065 = $0.0013; x30.4167 = $0.0395
    assert loops["g2"].observation.metrics["max_repeats_in_window"] == 3
    assert loops["g2"].estimated_monthly_savings_usd == round(2 * 0.00065 * MONTH, 2) == 0.04


def converse_log(i: int, tool_input: dict) -> dict:
    """A Bedrock model invocation log record of a Converse call answered with a toolUse block."""
    return {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": f"2026-10-05T12:00:{i * 5:02d}Z",
        "accountId": "123456789012",
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/agent/s"},
        "region": "us-east-1",
        "requestId": f"req-{i}",
        "operation": "Converse",
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "requestMetadata": {"session_id": "b1", "team": "platform"},
        # no input body: this account's logs keep no prompt (whatever the input body holds,
        # messages or not, is hashed as the prompt and would be the evidence instead)
        "input": {"inputContentType": "application/json", "inputTokenCount": 2500},
        "output": {
            "outputContentType": "application/json",
            "outputTokenCount": 40,
            "outputBodyJson": {
                "output": {
                    "message": {
                        "role": "assistant",
                        "content": [
                            {
                                "toolUse": {
                                    "toolUseId": f"tooluse_{i}",
                                    "name": "get_ticket",
                                    "input": tool_input,
                                }
                            }
                        ],
                    }
                },
                "stopReason": "tool_use",
                "usage": {"inputTokens": 2500, "outputTokens": 40, "totalTokens": 2540},
                "metrics": {"latencyMs": 800},
            },
        },
    }


def test_bedrock_converse_tool_use_loop_without_prompts(tmp_path):
    recs = [converse_log(i, {"id": "T-1"}) for i in range(4)] + [converse_log(4, {"id": "T-2"})]
    path = write_jsonl(tmp_path / "bedrock.jsonl", recs)
    rows = priced_rows(path)
    assert {r["fmt"] for r in rows} == {"bedrock"}
    assert len({r["reply_hash"] for r in rows[:4]}) == 1 and rows[4]["reply_hash"] != rows[0]["reply_hash"]
    # each call: 2500*0.80 + 40*4.00 = 2000 + 160 = 2,160 per 1M = $0.00216
    assert rows[0]["cost"] == pytest.approx(0.00216)
    [loop] = findings(scan([str(path)]))["llm-agent-loop"]
    # 3 repeats wasted: 3 * 0.00216 = $0.00648; x30.4167 = $0.1971
    assert loop.observation.metrics["observed_repeated_cost_usd"] == pytest.approx(3 * 0.00216)
    assert loop.estimated_monthly_savings_usd == round(3 * 0.00216 * MONTH, 2) == 0.20


def test_bedrock_batch_converse_and_anthropic_bodies_carry_reply_hashes(tmp_path):
    # batch output lines: a Converse body (toolUse) and an InvokeModel Anthropic body (tool_use)
    converse = {
        "recordId": "R1",
        "modelInput": {"messages": []},
        "modelOutput": {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"toolUse": {"toolUseId": "tooluse_a", "name": "lookup", "input": {"q": "x"}}}
                    ],
                }
            },
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        },
    }
    converse2 = json.loads(json.dumps(converse).replace("tooluse_a", "tooluse_b").replace('"R1"', '"R2"'))
    anthropic = {
        "recordId": "R3",
        "modelInput": {"anthropic_version": "bedrock-2023-05-31", "messages": []},
        "modelOutput": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-3-5-haiku-20241022",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}}],
            "usage": {"input_tokens": 10, "output_tokens": 5},
        },
    }
    # the Converse lines name no model: the job's comes from config (see test_llm_modes)
    rows = priced_rows(
        write_jsonl(tmp_path / "b.jsonl.out", [converse, converse2, anthropic]),
        llm={"bedrock_batch_models": {"*": "anthropic.claude-3-5-haiku-20241022-v1:0"}},
    )
    assert {r["fmt"] for r in rows} == {"bedrock-batch"}
    # the tool-use ids differ, the calls do not: one hash for the two Converse lines
    assert rows[0]["reply_hash"] and rows[0]["reply_hash"] == rows[1]["reply_hash"]
    assert rows[2]["reply_hash"] is not None


def test_records_without_a_reply_have_no_reply_hash(tmp_path):
    rec = gemini_call(0, {"text": "x"}, "n1")
    del rec["response"]["candidates"]
    [row] = priced_rows(write_jsonl(tmp_path / "n.jsonl", [rec]))
    # still priced: 2000*0.30 + 20*2.50 = 650 per 1M
    assert row["reply_hash"] is None and row["cost"] == pytest.approx(0.00065)
