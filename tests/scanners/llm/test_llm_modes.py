"""Billing modes priced line by line: a model used at standard and batch rates shows each rate
with its own source; a batch's cached input follows the vendor's documented rule on both price
paths; Bedrock batch jobs whose lines name no model are priced from config. Real engine, real
rules, amounts computed by hand here.

Rates (genai-prices 0.2.3, USD per 1M tokens): gpt-4o standard 2.50 in / 1.25 cached / 10 out,
batch variant (from 2026-10-14) 1.25 / 5 out and no cached price of its own; gpt-4o-mini standard
0.15 / 0.075 / 0.60, batch variant 0.075 / 0.30 (no cached price); gpt-4o-mini is gpt-4o's cheaper
model in the tiers file. Bedrock claude-3-5-haiku 0.80 / 4 and Titan Text Express 0.20 / 0.60 have
no batch variant: AWS's documented 50%. A log shorter than a day counts as one day (x30.4167, 730 h / 24).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifinops_cli.core.plugin import ScannerError
from tests.llm_helpers import MONTH, findings, priced_rows, scan, write_jsonl

DAY = datetime(2026, 11, 5, 12, tzinfo=UTC)


def chat(i: int, model: str, pin: int, pout: int, cached: int = 0) -> dict:
    """A standard-rate chat completion as a gateway logs it (no team or app: nor do Batch output
    lines name any, so both land in one premium group)."""
    return {
        "timestamp": f"2026-11-05T12:{i // 60:02d}:{i % 60:02d}Z",
        "request": {
            "model": model,
            "messages": [{"role": "user", "content": f"Classify ticket {i}: spam or not?"}],
        },
        "response": {
            "id": f"chatcmpl-{i}",
            "object": "chat.completion",
            "created": int(DAY.timestamp()) + i,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "no"}}],
            "usage": {
                "prompt_tokens": pin,
                "completion_tokens": pout,
                "total_tokens": pin + pout,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        },
    }


def batch_line(i: int, model: str, pin: int, pout: int, created: int, cached: int = 0) -> dict:
    """An OpenAI Batch API output line (BatchRequestOutput)."""
    return {
        "id": f"batch_req_{i}",
        "custom_id": f"ticket-{i}",
        "response": {
            "status_code": 200,
            "request_id": f"req_{i}",
            "body": {
                "id": f"chatcmpl-b{i}",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "no"}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": pin,
                    "completion_tokens": pout,
                    "total_tokens": pin + pout,
                    "prompt_tokens_details": {"cached_tokens": cached},
                },
            },
        },
        "error": None,
    }


def test_standard_and_batch_requests_each_cost_line_names_its_rate_and_source(tmp_path):
    # 30 simple gpt-4o requests at the standard rate (a gateway log) and 30 through the Batch API
    # (its output file): one premium-misuse finding, its cost lines split by billing mode
    std = write_jsonl(tmp_path / "gateway.jsonl", [chat(i, "gpt-4o", 400, 20) for i in range(30)])
    bat = write_jsonl(
        tmp_path / "batch_output.jsonl",
        [batch_line(i, "gpt-4o", 400, 20, int(DAY.timestamp()) + 100 + i) for i in range(30)],
    )
    [f] = findings(scan([str(std), str(bat)]))["llm-premium-simple"]
    lines = {line.description: line for line in f.observation.cost_lines}
    assert set(lines) == {
        "gpt-4o input tokens",
        "gpt-4o output tokens",
        "gpt-4o batch input tokens",
        "gpt-4o batch output tokens",
    }
    # monthly quantities: 30 * 400 = 12,000 input tokens = 0.012M x30.4167 = 0.365000M; output 30 * 20 = 600
    assert lines["gpt-4o input tokens"].unit_price_usd == 2.5
    assert lines["gpt-4o input tokens"].quantity == pytest.approx(0.012 * MONTH)
    assert lines["gpt-4o output tokens"].unit_price_usd == 10.0
    assert lines["gpt-4o batch input tokens"].unit_price_usd == 1.25
    assert lines["gpt-4o batch output tokens"].unit_price_usd == 5.0
    assert lines["gpt-4o batch output tokens"].quantity == pytest.approx(0.0006 * MONTH)
    assert "batch price variant" in lines["gpt-4o batch input tokens"].source
    assert "batch" not in lines["gpt-4o input tokens"].source and lines[
        "gpt-4o input tokens"
    ].source.startswith("genai-prices")
    assert lines["gpt-4o batch input tokens"].sku == "llm:openai:gpt-4o:batch:input"
    assert lines["gpt-4o input tokens"].sku == "llm:openai:gpt-4o:input"
    # the finding's cost: standard 30 * (400*2.50 + 20*10) = 30 * 1,200 = 36,000 per 1M = $0.036;
    # batch 30 * (400*1.25 + 20*5) = 30 * 600 = $0.018; total $0.054
    m = f.observation.metrics
    assert m["observed_simple_cost_usd"] == pytest.approx(0.054)
    assert sum(line.unit_price_usd * line.quantity for line in f.observation.cost_lines) == pytest.approx(
        0.054 * MONTH
    )
    # at gpt-4o-mini, each in its mode: standard 30 * (400*0.15 + 20*0.60) = 30 * 72 = $0.00216;
    # batch 30 * (400*0.075 + 20*0.30) = 30 * 36 = $0.00108; total $0.00324
    assert m["observed_cheaper_cost_usd"] == pytest.approx(0.00324)
    # savings (0.054 - 0.00324) * 30.4167 = $1.5440
    assert f.estimated_monthly_savings_usd == round((0.054 - 0.00324) * MONTH, 2) == 1.54
    assert "billed as standard, batch" in f.observation.evidence[0]


def test_batch_cached_input_is_half_the_standard_cached_price_on_both_paths(tmp_path):
    # OpenAI's batch discount is 50% on every token kind, cached input included. The same Batch
    # line on a day with genai-prices' batch variant (2026-11-05; the variant has no cached price)
    # and on a day before it (2024-11-05: the documented-50% fallback) costs the same:
    # (4000-2048)*0.075 + 2048*(0.075 x 0.5 = 0.0375) + 500*0.30 = 146.4 + 76.8 + 150 = 373.2 per 1M
    # (keeping the standard cached 0.075 would give 146.4 + 153.6 + 150 = 450)
    old = int(datetime(2024, 11, 5, 12, tzinfo=UTC).timestamp())
    path = write_jsonl(
        tmp_path / "b.jsonl",
        [
            batch_line(1, "gpt-4o-mini", 4000, 500, int(DAY.timestamp()), cached=2048),
            batch_line(2, "gpt-4o-mini", 4000, 500, old, cached=2048),
        ],
    )
    variant, fallback = priced_rows(path)
    for r in (variant, fallback):
        assert r["price_mode"] == "batch" and r["p_cached"] == pytest.approx(0.0375)
        assert r["cost"] == pytest.approx(373.2e-6)
    assert "batch price variant; its cache read price: the standard one x 0.5" in variant["price_source"]
    assert "platform.openai.com/docs/guides/batch" in variant["price_source"]
    assert "no batch variant in genai-prices for this day" in fallback["price_source"]


def test_gemini_batch_cached_tokens_keep_the_cache_price(tmp_path):
    # Google: batch and cache-hit discounts do not stack. gemini-2.5-flash on 2026-11-05: batch
    # 0.15 in / 1.25 out, cached 0.03 (the standard cache price, not halved):
    # (3000-1000)*0.15 + 1000*0.03 + 100*1.25 = 300 + 30 + 125 = 455 per 1M
    line = {
        "key": "k1",
        "response": {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
            "usageMetadata": {
                "promptTokenCount": 3000,
                "cachedContentTokenCount": 1000,
                "candidatesTokenCount": 100,
            },
            "modelVersion": "gemini-2.5-flash",
            "createTime": "2026-11-05T12:00:00Z",
        },
    }
    [r] = priced_rows(write_jsonl(tmp_path / "g.jsonl", [line]))
    assert (r["fmt"], r["p_cached"]) == ("gemini-batch", pytest.approx(0.03))
    assert r["cost"] == pytest.approx(455e-6)
    assert "do not stack" in r["price_source"]


CONVERSE = {
    "recordId": "CALL0000001",
    "modelInput": {"messages": [{"role": "user", "content": [{"text": "Summarise"}]}]},
    "modelOutput": {
        "output": {"message": {"role": "assistant", "content": [{"text": "Short."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1000, "outputTokens": 200, "totalTokens": 1200},
        "metrics": {"latencyMs": 900},
    },
}
TITAN = {
    "recordId": "3223593EFGH",
    "modelInput": {"inputText": "Roses are red, violets are"},
    "modelOutput": {
        "inputTextTokenCount": 8,
        "results": [{"tokenCount": 3, "outputText": "blue\n", "completionReason": "FINISH"}],
    },
}
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123xyz"


def test_bedrock_batch_lines_without_model_priced_from_config(tmp_path):
    # Bedrock writes a job's output under a folder named by the job id: the Converse job is named
    # by its ARN, the Titan job's folder by a glob
    conv = tmp_path / "out" / "abc123xyz" / "input.jsonl.out"
    titan = tmp_path / "out" / "def456" / "titan.jsonl.out"
    for path, rec in ((conv, CONVERSE), (titan, TITAN)):
        path.parent.mkdir(parents=True)
        write_jsonl(path, [rec])
    llm = {
        "bedrock_batch_models": {
            JOB_ARN: "anthropic.claude-3-5-haiku-20241022-v1:0",
            str(tmp_path / "out" / "def*" / "*"): "amazon.titan-text-express-v1",
        }
    }
    [c] = priced_rows(conv, llm=llm)
    # claude-3-5-haiku at AWS's documented 50%: 1000*0.40 + 200*2.00 = 400 + 400 = 800 per 1M
    assert (c["fmt"], c["model"], c["price_mode"]) == (
        "bedrock-batch",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "batch",
    )
    assert c["cost"] == pytest.approx(800e-6)
    [t] = priced_rows(titan, llm=llm)
    # Titan Text Express at 50%: 8*0.10 + 3*0.30 = 0.8 + 0.9 = 1.7 per 1M
    assert (t["model"], t["input_tokens"], t["output_tokens"]) == ("amazon.titan-text-express-v1", 8, 3)
    assert t["cost"] == pytest.approx(1.7e-6)


def test_bedrock_batch_without_config_says_how_to_name_the_model(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl.out", [CONVERSE])
    [entry] = scan([str(path)]).coverage
    assert (entry.status, entry.errors) == ("partial", 1)
    with pytest.raises(ScannerError, match=r"x.jsonl.out:1: no model .*set llm.bedrock_batch_models"):
        scan([str(path)], strict=True)


def test_bedrock_batch_models_config_is_checked(tmp_path):
    path = str(write_jsonl(tmp_path / "x.jsonl.out", [CONVERSE]))
    with pytest.raises(ScannerError, match=r"bedrock_batch_models.*is not a Bedrock model id"):
        scan([path], llm={"bedrock_batch_models": {JOB_ARN: "not a model; drop table"}})
    with pytest.raises(ScannerError, match="bedrock_batch_models: expected a mapping"):
        scan([path], llm={"bedrock_batch_models": ["x"]})
