"""Each vendor format in its documented shape: parsed tokens and priced cost by hand.

Prices are genai-prices 0.2.3 list prices in USD per 1M tokens:
gpt-4o 2.50 in / 1.25 cached / 10 out; gpt-4o-mini 0.15 / 0.075 / 0.60; o3 2 / 0.5 / 8;
claude-sonnet-4-5 3 in / 0.30 cache read / 3.75 cache write / 15 out (below 200k input);
claude-haiku-4-5 1 / 0.10 / 1.25 / 5.
"""

from __future__ import annotations

import csv
import gzip
import json
from datetime import datetime

import pytest

from tests.llm_helpers import LITELLM_SPEND_COLUMNS, priced_rows, typed_read, write_jsonl

T = "2026-10-05T12:00:00Z"
EPOCH = 1791201600  # 2026-10-05T12:00:00Z


def chat(model: str, pin: int, pout: int, cached: int = 0, reasoning: int = 0) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": EPOCH,
        "model": model,
        "usage": {
            "prompt_tokens": pin,
            "completion_tokens": pout,
            "total_tokens": pin + pout,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0},
        },
    }


def test_openai_chat_wrapped_with_cached_tokens(tmp_path):
    rec = {
        "timestamp": T,
        "metadata": {"team": "support", "app": "triage", "customer": "acme"},
        "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Classify: refund"}]},
        "response": chat("gpt-4o-2024-08-06", 1200, 10, cached=1024),
    }
    [row] = priced_rows(write_jsonl(tmp_path / "a.jsonl", [rec]))
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"]) == (1200, 1024, 10)
    assert (row["team"], row["app"], row["customer"], row["provider"]) == (
        "support",
        "triage",
        "acme",
        "openai",
    )
    # (1200-1024)*2.50 + 1024*1.25 + 10*10 = 440 + 1280 + 100 = 1820 per 1M -> $0.00182
    assert row["cost"] == pytest.approx(0.00182)
    # 1,200 input tokens is too large to be simple, so the prompt's shape is not looked at
    assert row["priced_as"] == "gpt-4o" and row["hint"] is None
    assert row["prompt_text"] is None  # never kept without --show-prompts


def test_openai_layout_absent_from_the_sample_is_still_read(tmp_path):
    # the typed reader reads objects absent from the first records as JSON text: a late record in
    # another layout (batch body, metadata inside the request) keeps every field
    same = {
        "timestamp": T,
        "metadata": {"team": "support"},
        "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        "response": chat("gpt-4o-mini", 100, 10),
    }
    late = {
        "timestamp": T,
        "request": {
            "model": "gpt-4o",
            "metadata": {"team": "search"},
            "messages": [{"role": "user", "content": "hello"}],
        },
        "response": {"status_code": 200, "body": chat("gpt-4o", 1000, 100, cached=512)},
    }
    rows = priced_rows(write_jsonl(tmp_path / "mixed.jsonl", [same] * 2500 + [late]))
    assert len(rows) == 2501
    row = rows[-1]
    assert (row["model"], row["team"], row["line_no"]) == ("gpt-4o", "search", 2501)
    assert (row["input_tokens"], row["cached_input_tokens"], row["output_tokens"]) == (1000, 512, 100)
    # (1000-512)*2.50 + 512*1.25 + 100*10 = 1220 + 640 + 1000 = 2860 per 1M -> $0.00286
    assert row["cost"] == pytest.approx(0.00286)


def test_an_impossible_timestamp_costs_only_its_own_time(tmp_path):
    # numbers beyond any timestamp used to abort the cast, and with it the whole file
    good = {
        "timestamp": T,
        "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        "response": chat("gpt-4o-mini", 100, 10),
    }
    odd = [dict(good, timestamp=v) for v in ("1e300", "-1e300", "inf", "nan")]
    rows = priced_rows(write_jsonl(tmp_path / "odd.jsonl", [good, *odd, good]))
    # the odd ones fall back to the response's own `created` time (EPOCH, the same instant as T)
    assert [r["ts"] for r in rows] == [datetime(2026, 10, 5, 12, 0)] * 6
    # every record still priced: 100*0.15 + 10*0.60 = 21 per 1M
    assert [r["cost"] for r in rows] == [pytest.approx(21e-6)] * 6


def test_openai_responses_api_reasoning(tmp_path):
    rec = {
        "id": "resp_1",
        "object": "response",
        "created_at": EPOCH,
        "status": "completed",
        "model": "o3",
        "usage": {
            "input_tokens": 6000,
            "input_tokens_details": {"cached_tokens": 2048},
            "output_tokens": 2200,
            "output_tokens_details": {"reasoning_tokens": 1600},
            "total_tokens": 8200,
        },
    }
    [row] = priced_rows(write_jsonl(tmp_path / "r.jsonl", [rec]))
    assert row["reasoning_tokens"] == 1600
    # 3952*2 + 2048*0.5 + 600*8 + 1600*8 (reasoning billed as output) = 7904+1024+4800+12800 = 26528
    assert row["cost"] == pytest.approx(0.026528)


BATCH_LINE = {
    "id": "batch_req_1",
    "custom_id": "job-7",
    "response": {"status_code": 200, "request_id": "req_abc", "body": chat("gpt-4o-mini", 500, 50)},
    "error": None,
}


def test_openai_batch_output_line(tmp_path):
    [row] = priced_rows(write_jsonl(tmp_path / "b.jsonl", [BATCH_LINE]))
    assert row["fmt"] == "openai-batch" and row["request_id"] == "job-7" and row["price_mode"] == "batch"
    # genai-prices 0.2.3 has gpt-4o-mini's batch variant only from 2026-10-14, so on 2026-10-05
    # OpenAI's documented 50% batch rate applies: (500*0.15 + 50*0.60) * 0.5 = 105 * 0.5 = 52.5 per 1M
    assert row["cost"] == pytest.approx(0.0000525, rel=1e-4)
    assert "50%" in row["price_source"] and "platform.openai.com/docs/guides/batch" in row["price_source"]


def test_anthropic_cache_tokens_are_added_to_input(tmp_path):
    rec = {
        "timestamp": T,
        "session_id": "s1",
        "metadata": {"team": "research"},
        "response": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [],
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": 100,
                "output_tokens": 400,
                "cache_creation_input_tokens": 2000,
                "cache_read_input_tokens": 3000,
                "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 0},
            },
        },
    }
    [row] = priced_rows(write_jsonl(tmp_path / "m.jsonl", [rec]))
    assert (row["input_tokens"], row["cached_input_tokens"], row["cache_write_tokens"]) == (5100, 3000, 2000)
    # 100*3 + 2000*3.75 + 3000*0.30 + 400*15 = 300 + 7500 + 900 + 6000 = 14700 per 1M
    assert row["cost"] == pytest.approx(0.0147)


def test_anthropic_one_hour_cache_writes_bill_at_twice_input(tmp_path):
    usage = {
        "input_tokens": 100,
        "output_tokens": 400,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500},
    }
    rec = {
        "timestamp": T,
        "response": {"id": "msg_2", "type": "message", "model": "claude-sonnet-4-5-20250929", "usage": usage},
    }
    [row] = priced_rows(write_jsonl(tmp_path / "h.jsonl", [rec]))
    # 100*3 + 500*3.75 (5-minute write) + 1500*6.00 (1-hour write: 2 x 3.00) + 400*15
    # = 300 + 1875 + 9000 + 6000 = 17175 per 1M
    assert row["cost"] == pytest.approx(0.017175)


def test_litellm_spend_csv_with_logged_spend(tmp_path):
    path = tmp_path / "spend.csv"
    meta = {
        "user_api_key_alias": "k1",
        "user_api_key_team_alias": "growth",
        "usage_object": {"prompt_tokens_details": {"cached_tokens": 0}},
    }
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(
            fh,
            fieldnames=LITELLM_SPEND_COLUMNS,
        )
        w.writeheader()
        w.writerow(
            {
                "request_id": "r1",
                "call_type": "acompletion",
                "api_key": "hash",
                "spend": "0.0004",
                "total_tokens": 1200,
                "prompt_tokens": 1000,
                "completion_tokens": 200,
                "startTime": "2026-10-05 12:00:00.000",
                "endTime": "2026-10-05 12:00:01.500",
                "model": "gpt-4o-mini",
                "custom_llm_provider": "openai",
                "metadata": json.dumps(meta),
                "team_id": "",
                "end_user": "acme",
                "request_tags": '["app:emailer"]',
                "cache_hit": "False",
                "status": "success",
                "messages": "{}",
            }
        )
    [row] = priced_rows(path)
    assert row["fmt"] == "litellm-spend-csv"
    assert (row["team"], row["app"], row["customer"], row["latency_ms"]) == (
        "growth",
        "emailer",
        "acme",
        1500,
    )
    # 1000*0.15 + 200*0.60 = 150 + 120 = 270 per 1M; the log says $0.0004
    assert row["cost"] == pytest.approx(0.00027) and row["logged_cost"] == pytest.approx(0.0004)
    assert row["prompt_hash"] is None  # "{}" is not a prompt


def test_litellm_standard_logging_payload(tmp_path):
    rec = {
        "id": "p1",
        "trace_id": "t1",
        "call_type": "acompletion",
        "status": "success",
        "response_cost": 0.0016,
        "prompt_tokens": 2000,
        "completion_tokens": 100,
        "total_tokens": 2100,
        "startTime": EPOCH + 0.25,
        "endTime": EPOCH + 1.25,
        "model": "claude-haiku-4-5",
        "custom_llm_provider": "anthropic",
        "end_user": "globex",
        "request_tags": [],
        "metadata": {"user_api_key_team_alias": "search", "usage_object": {"cache_read_input_tokens": 1000}},
        "cost_breakdown": {"input_cost": 0.0011, "output_cost": 0.0005, "total_cost": 0.0016},
    }
    [row] = priced_rows(write_jsonl(tmp_path / "p.jsonl", [rec]))
    assert row["fmt"] == "litellm-payload" and row["team"] == "search" and row["latency_ms"] == 1000
    # (2000-1000)*1 + 1000*0.10 + 100*5 = 1000 + 100 + 500 = 1600 per 1M
    assert row["cost"] == pytest.approx(0.0016)


BEDROCK_RECORD = {
    "schemaType": "ModelInvocationLog",
    "schemaVersion": "1.0",
    "timestamp": T,
    "accountId": "123456789012",
    "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/x/y"},
    "region": "us-east-1",
    "requestId": "b1",
    "operation": "Converse",
    "modelId": "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    "requestMetadata": {"team": "platform"},
    "input": {
        "inputContentType": "application/json",
        "inputTokenCount": 400,
        "cacheReadInputTokenCount": 100,
        "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "Extract x"}]}]},
    },
    "output": {
        "outputContentType": "application/json",
        "outputTokenCount": 50,
        "outputBodyJson": {"usage": {"inputTokens": 400, "outputTokens": 50}},
    },
}


def test_bedrock_invocation_log_gz(tmp_path):
    rec = BEDROCK_RECORD
    path = tmp_path / "x.json.gz"
    path.write_bytes(gzip.compress((json.dumps(rec) + "\n").encode()))
    [row] = priced_rows(path)
    assert (row["provider"], row["team"], row["input_tokens"], row["cached_input_tokens"]) == (
        "aws",
        "platform",
        500,
        100,
    )
    # claude-3-5-sonnet v2 through a us. inference profile: 3 in / 0.30 cache read / 15 out
    # 400*3 + 100*0.30 + 50*15 = 1200 + 30 + 750 = 1980 per 1M
    assert row["cost"] == pytest.approx(0.00198)


@pytest.mark.parametrize(
    "record",
    [
        BATCH_LINE,
        BEDROCK_RECORD,
        {"timestamp": T, "request": {"model": "gpt-4o-mini"}, "response": chat("gpt-4o-mini", 100, 10)},
    ],
    ids=["openai-batch", "bedrock", "openai-wrapped"],
)
def test_records_without_tool_calls_take_the_typed_reader(tmp_path, record):
    # a reply's tool-call names are read from key paths these records lack; on DuckDB 2 that
    # stopped the typed reader for every such file and sent it line by line (twice the work)
    path = write_jsonl(tmp_path / "a.jsonl", [record] * 3)
    assert typed_read(path)


def test_otel_genai_spans_otlp_json(tmp_path):
    def a(k, v):
        return {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}

    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "chat gpt-4o-mini",
        "kind": 3,
        "startTimeUnixNano": str(EPOCH * 10**9),
        "endTimeUnixNano": str(EPOCH * 10**9 + 750_000_000),
        "attributes": [
            a("gen_ai.operation.name", "chat"),
            a("gen_ai.provider.name", "openai"),
            a("gen_ai.request.model", "gpt-4o-mini"),
            a("gen_ai.usage.input_tokens", 800),
            a("gen_ai.usage.output_tokens", 100),
            a("gen_ai.conversation.id", "conv-1"),
        ],
        "status": {"code": 1},
    }
    http = {
        "traceId": "ab" * 16,
        "spanId": "ef" * 8,
        "name": "GET /",
        "attributes": [a("http.method", "GET")],
    }
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [a("service.name", "voice-bot"), a("team", "voice")]},
                "scopeSpans": [{"scope": {"name": "x"}, "spans": [span, http]}],
            }
        ]
    }
    [row] = priced_rows(write_jsonl(tmp_path / "o.jsonl", [doc]))
    assert (row["app"], row["team"], row["session_id"], row["latency_ms"]) == (
        "voice-bot",
        "voice",
        "conv-1",
        750,
    )
    # 800*0.15 + 100*0.60 = 120 + 60 = 180 per 1M
    assert row["cost"] == pytest.approx(0.00018)


def test_plain_csv_and_unknown_model_is_unpriced(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(
        "timestamp,provider,model,input_tokens,output_tokens,team,prompt_hash\n"
        f"{T},openai,gpt-4o,300,20,finance,h1\n"
        f"{T},vllm,acme-llama-70b,1000,1000,finance,h2\n"
    )
    rows = priced_rows(path)
    # 300*2.50 + 20*10 = 750 + 200 = 950 per 1M
    assert rows[0]["cost"] == pytest.approx(0.00095)
    assert rows[1]["cost"] is None  # unknown: unpriced, never $0
    # self-hosted rate from config: 2000 tokens * 0.35 per 1M = $0.0007
    rows = priced_rows(
        path,
        llm={
            "prices": [
                {"model": "acme-llama-*", "provider": "vllm", "input_per_1m": 0.35, "output_per_1m": 0.35}
            ]
        },
    )
    assert rows[1]["cost"] == pytest.approx(0.0007)
