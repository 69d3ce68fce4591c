"""Every vendor shape, from fixtures in tests/data/llm written after each vendor's documented
example, parsed by the real engine and priced to within 0.01% of a cost worked out by hand here.

Rates are genai-prices 0.2.3's, USD per 1M tokens, for 2026-11-05 (after the catalog's batch and
service-tier variants start, 2026-10-12/14):
  gpt-4o-mini   0.15 in / 0.075 cached / 0.60 out; batch variant 0.075 in / 0.30 out (cached: 0.075 x 0.5)
  gpt-5         1.25 / 0.125 / 10; flex 0.625 / 0.0625 / 5; priority 2.50 / 0.25 / 20
  claude-haiku-4-5        1 / 0.10 cache read / 1.25 cache write / 5 out
  gemini-2.5-flash        0.30 / 0.03 / 2.50; batch variant 0.15 / 0.03 / 1.25
  Bedrock claude-3-5-haiku 0.80 in / 4 out (no batch variant: AWS's documented 50%)
  openrouter openai/gpt-4o-mini 0.15 / 0.075 / 0.60; mistral-small-latest 0.15 / 0.60;
  groq llama-3.3-70b-versatile 0.59 / 0.79; deepseek-chat 0.27 / 0.07 / 1.10; grok-3-mini 0.30 / 0.50;
  together meta-llama/Llama-3.3-70B-Instruct-Turbo 0.88 / 0.88; fireworks deepseek-v3p2 0.56 / 1.68;
  text-embedding-3-small 0.02 in.
"""

from __future__ import annotations

import json

import pytest

from tests.llm_helpers import priced_rows, scan
from tests.paths import TEST_DATA

DATA = TEST_DATA / "llm"
REL = 1e-4  # 0.01%
AZURE = {"azure_deployments": {"prod-4o-mini": "gpt-4o-mini"}}


def rows(name: str, llm: dict | None = None, fmt: str | None = None) -> list[dict]:
    return priced_rows(DATA / name, fmt=fmt, llm=llm)


def money(x: float) -> object:
    return pytest.approx(x, rel=REL)


def test_openai_chat_completion_with_cached_tokens():
    [r] = rows("openai_chat.jsonl")
    assert (r["fmt"], r["provider"], r["priced_as"], r["price_mode"]) == (
        "openai",
        "openai",
        "gpt-4o-mini",
        None,
    )
    # (1500-1024)*0.15 + 1024*0.075 + 200*0.60 = 71.4 + 76.8 + 120 = 268.2 per 1M
    assert r["cost"] == money(268.2e-6)


def test_openai_responses_api_flex_tier_with_reasoning():
    [r] = rows("openai_responses.jsonl")
    assert (r["price_mode"], r["reasoning_tokens"], r["cached_input_tokens"]) == ("flex", 1000, 2000)
    # flex: (4000-2000)*0.625 + 2000*0.0625 + (1500-1000)*5 + 1000*5 (reasoning billed as output)
    # = 1250 + 125 + 2500 + 5000 = 8875 per 1M
    assert r["cost"] == money(8875e-6)
    assert "service_tier flex price variant" in r["price_source"]


def test_openai_priority_tier():
    [r] = rows("openai_priority.jsonl")
    # priority: 1000*2.50 + 100*20 = 2500 + 2000 = 4500 per 1M (standard would be 1250 + 1000 = 2250)
    assert (r["price_mode"], r["cost"]) == ("priority", money(4500e-6))


def test_openai_batch_output_batch_rate_and_failed_lines():
    ok, expired, failed = rows("openai_batch.jsonl")
    assert ok["request_id"] == "request-2" and ok["price_mode"] == "batch"
    # batch variant: 2000*0.075 + 300*0.30 = 150 + 90 = 240 per 1M (standard would be 480)
    assert ok["cost"] == money(240e-6) and "batch price variant" in ok["price_source"]
    # expired and failed lines are failed requests that billed nothing, not malformed records
    assert (expired["status"], expired["error"], expired["cost"]) == ("error", "batch_expired", 0.0)
    assert (failed["status"], failed["error"], failed["cost"]) == ("error", "invalid_request_error", 0.0)


def test_anthropic_message_batch_results():
    ok, errored, expired, canceled = rows("anthropic_batch.jsonl")
    assert (ok["fmt"], ok["request_id"], ok["price_mode"]) == (
        "anthropic-batch",
        "my-second-request",
        "batch",
    )
    assert (ok["input_tokens"], ok["cached_input_tokens"], ok["cache_write_tokens"]) == (5500, 4000, 1000)
    # results carry no time, so no dated variant applies: Anthropic's documented 50% batch rate on
    # (500*1 + 4000*0.10 + 1000*1.25 + 300*5) = 500 + 400 + 1250 + 1500 = 3650 -> 1825 per 1M
    assert ok["cost"] == money(1825e-6) and "docs.anthropic.com" in ok["price_source"]
    assert [(x["status"], x["error"], x["cost"]) for x in (errored, expired, canceled)] == [
        ("error", "invalid_request_error", 0.0),
        ("error", "expired", 0.0),
        ("error", "canceled", 0.0),
    ]


def test_azure_openai_deployment_mapped_to_its_model():
    [r] = rows("azure_openai.jsonl", AZURE)
    assert (r["fmt"], r["provider"], r["model"], r["priced_as"]) == (
        "azure-openai",
        "azure",
        "prod-4o-mini",
        "gpt-4o-mini",
    )
    # azure gpt-4o-mini: 800*0.15 + 50*0.60 = 120 + 30 = 150 per 1M
    assert r["cost"] == money(150e-6) and "azure deployment prod-4o-mini -> gpt-4o-mini" in r["price_source"]


def test_gemini_usage_metadata_thoughts_tool_use_and_cache():
    [r] = rows("gemini.jsonl")
    # input = promptTokenCount 3000 (includes 1000 cached) + toolUsePromptTokenCount 200 = 3200;
    # output = candidates 400 + thoughts 600 = 1000
    assert (
        r["provider"],
        r["input_tokens"],
        r["cached_input_tokens"],
        r["output_tokens"],
        r["reasoning_tokens"],
    ) == ("google", 3200, 1000, 1000, 600)
    # (3200-1000)*0.30 + 1000*0.03 + 400*2.50 + 600*2.50 = 660 + 30 + 1000 + 1500 = 3190 per 1M
    assert r["cost"] == money(3190e-6)


def test_vertex_batch_prediction_output():
    ok, bad = rows("vertex_batch.jsonl")
    assert (ok["fmt"], ok["model"], ok["price_mode"]) == ("gemini-batch", "gemini-2.5-flash", "batch")
    # batch variant: 1000*0.15 + 200*1.25 = 150 + 250 = 400 per 1M
    assert ok["cost"] == money(400e-6)
    assert bad["status"] == "error" and bad["error"].startswith("Bad Request") and bad["cost"] == 0.0


def test_bedrock_batch_inference_output():
    ok, bad = rows("bedrock_batch.jsonl.out")
    assert (ok["fmt"], ok["provider"], ok["request_id"]) == ("bedrock-batch", "aws", "3223593EFGH")
    # no batch variant for Bedrock in genai-prices: AWS's documented 50% on
    # 1000*0.80 + 200*4 = 800 + 800 = 1600 -> 800 per 1M
    assert ok["cost"] == money(800e-6) and "aws.amazon.com/bedrock/pricing" in ok["price_source"]
    assert (bad["status"], bad["error"], bad["cost"]) == ("error", "400", 0.0)


def test_litellm_spend_logs_pretty_printed_array_team_alias_then_id():
    first, second = rows("litellm_spend_array.json")
    assert first["fmt"] == "litellm-spend"
    # the alias where the record has one, the id otherwise (the same rule as the CSV and payload)
    assert (first["team"], second["team"]) == ("growth", "team-uuid-2")
    # 1000*0.15 + 200*0.60 = 150 + 120 = 270 per 1M, logged spend $0.00027 kept beside it
    assert first["cost"] == money(270e-6) and first["logged_cost"] == money(0.00027)


def test_litellm_spend_logs_one_line_array_and_list_key_wrapper(tmp_path):
    records = json.loads((DATA / "litellm_spend_array.json").read_text())
    one_line = tmp_path / "spend.json"
    one_line.write_text(json.dumps(records))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(
        json.dumps({"data": records, "meta": {"page": 1, "tags": ["a]", "b"]}, "total": 2}, indent=1)
    )
    for path in (one_line, wrapped):
        got = priced_rows(path)
        assert [(r["team"], r["line_no"]) for r in got] == [("growth", 1), ("team-uuid-2", 2)]
        assert sum(r["cost"] for r in got) == money(2 * 270e-6)  # 2 x (150 + 120) per 1M


def test_litellm_team_is_the_same_in_csv_jsonl_and_payload(tmp_path):
    rec = json.loads((DATA / "litellm_spend_array.json").read_text())[0]
    jsonl = tmp_path / "spend.jsonl"
    jsonl.write_text(json.dumps(rec) + "\n")
    csv_path = tmp_path / "spend.csv"
    cols = [
        "request_id",
        "spend",
        "prompt_tokens",
        "completion_tokens",
        "startTime",
        "model",
        "metadata",
        "team_id",
    ]
    csv_path.write_text(
        ",".join(cols)
        + "\n"
        + ",".join(json.dumps(json.dumps(rec[c])) if c == "metadata" else str(rec[c]) for c in cols)
        + "\n"
    )
    payload = tmp_path / "payload.jsonl"
    payload.write_text(
        json.dumps(
            {
                "id": "p",
                "status": "success",
                "response_cost": 0.00027,
                "prompt_tokens": 1000,
                "completion_tokens": 200,
                "startTime": "2026-11-05T12:00:00Z",
                "model": "gpt-4o-mini",
                "custom_llm_provider": "openai",
                "team_id": "team-uuid-1",
                "metadata": rec["metadata"],
            }
        )
        + "\n"
    )
    assert [priced_rows(p)[0]["team"] for p in (jsonl, csv_path, payload)] == ["growth"] * 3


def test_langfuse_generations_spans_and_error_levels():
    gen, err = rows("langfuse.jsonl")  # the SPAN observation is structure, not a request
    assert (gen["fmt"], gen["provider"], gen["team"], gen["app"], gen["user_id"], gen["session_id"]) == (
        "langfuse",
        "openai",
        "docs",
        "summariser",
        "user-42",
        "sess-7",
    )
    # usageDetails buckets are exclusive: input 1200 + input_cached_tokens 800 = 2000 in, 150 out
    assert (gen["input_tokens"], gen["cached_input_tokens"], gen["output_tokens"]) == (2000, 800, 150)
    # 1200*0.15 + 800*0.075 + 150*0.60 = 180 + 60 + 90 = 330 per 1M; costDetails.total says the same
    assert gen["cost"] == money(330e-6) and gen["logged_cost"] == money(0.00033)
    assert (err["status"], err["error"], err["cost"]) == ("error", "429 Too Many Requests", 0.0)


def test_helicone_export_properties_and_anthropic_cache_tokens():
    ok, overloaded = rows("helicone.json")
    assert (ok["fmt"], ok["provider"], ok["team"], ok["app"], ok["session_id"], ok["user_id"]) == (
        "helicone",
        "anthropic",
        "support",
        "helpdesk",
        "sess-9",
        "alice",
    )
    # Anthropic counts: prompt 300 + cache read 2000 + cache write 500 = 2800 in
    assert (ok["input_tokens"], ok["cached_input_tokens"], ok["cache_write_tokens"]) == (2800, 2000, 500)
    # 300*1 + 2000*0.10 + 500*1.25 + 100*5 = 300 + 200 + 625 + 500 = 1625 per 1M
    assert ok["cost"] == money(1625e-6) and ok["logged_cost"] == money(0.001625)
    assert (overloaded["status"], overloaded["error"], overloaded["cost"]) == ("error", "529", 0.0)


def test_openrouter_is_billed_by_openrouter_with_its_logged_cost():
    [r] = rows("openrouter.jsonl")
    assert (r["fmt"], r["provider"], r["priced_as"]) == ("openrouter", "openrouter", "openai/gpt-4o-mini")
    # (1000-500)*0.15 + 500*0.075 + 100*0.60 = 75 + 37.5 + 60 = 172.5 per 1M; usage.cost $0.0002
    assert r["cost"] == money(172.5e-6) and r["logged_cost"] == money(0.0002)


def test_openai_compatible_vendors_are_billed_by_themselves():
    got = rows("openai_compatible.jsonl")
    assert [(r["provider"], r["priced_as"]) for r in got] == [
        ("mistral", "mistral-small-latest"),
        ("groq", "llama-3.3-70b-versatile"),
        ("deepseek", "deepseek-chat"),
        ("x-ai", "grok-3-mini"),
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
        ("fireworks", "deepseek-v3p2"),
    ]
    assert [r["cost"] for r in got] == [
        money(210e-6),  # mistral: 1000*0.15 + 100*0.60 = 150 + 60
        money(669e-6),  # groq: 1000*0.59 + 100*0.79 = 590 + 79
        money(260e-6),  # deepseek: 400*0.27 + 600*0.07 + 100*1.10 = 108 + 42 + 110
        money(350e-6),  # xai: 1000*0.30 + 100*0.50 = 300 + 50
        money(968e-6),  # together: 1100 * 0.88
        money(728e-6),  # fireworks: 1000*0.56 + 100*1.68 = 560 + 168
    ]


def test_otel_agent_trace_document_tools_agents_embeddings_and_errors():
    chat, emb, err = rows("otel_agent.json")
    # invoke_agent (its token totals repeat its children's), execute_tool and the HTTP span are
    # structure: not requests, not malformed
    assert (chat["team"], chat["app"], chat["session_id"], chat["latency_ms"]) == (
        "travel",
        "travel-app",
        "conv-5",
        900,
    )
    assert chat["cost"] == money(180e-6)  # 800*0.15 + 100*0.60 = 120 + 60
    assert (emb["model"], emb["input_tokens"], emb["output_tokens"]) == ("text-embedding-3-small", 500, 0)
    assert emb["cost"] == money(10e-6)  # 500*0.02
    assert (err["status"], err["error"], err["cost"]) == ("error", "rate_limit_exceeded", 0.0)


def test_otel_spans_counted_in_the_scan_coverage_not_malformed(tmp_path):
    result = scan([str(DATA / "otel_agent.json")])
    [entry] = result.coverage
    assert (entry.status, entry.resources) == ("ok", 3)
    files = result.analysis["llm"]["data"]["files"]
    assert files[0]["structure_records"] == 2 and files[0]["malformed"] == 0  # invoke_agent, execute_tool


def test_otel_error_spans_feed_the_retry_analysis(tmp_path):
    doc = json.loads((DATA / "otel_agent.json").read_text())
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    err = next(s for s in spans if s["spanId"] == "a000000000000005")
    burst = []
    for i in range(6):  # six failed attempts a second apart, then nothing
        s = json.loads(json.dumps(err))
        s["spanId"] = f"e{i:015d}"
        s["startTimeUnixNano"] = str(int(err["startTimeUnixNano"]) + i * 10**9)
        burst.append(s)
    spans[:] = burst
    path = tmp_path / "storm.jsonl"
    path.write_text(json.dumps(doc) + "\n")  # one ExportTraceServiceRequest per line
    got = priced_rows(path)
    assert [r["status"] for r in got] == ["error"] * 6 and all(r["cost"] == 0.0 for r in got)


def test_forced_format_that_matches_nothing_is_a_file_error(tmp_path):
    result = scan([str(DATA / "openai_chat.jsonl")], llm_log_format="otel")
    [entry] = result.coverage
    assert entry.status == "failed" and "no otel record" in entry.message


def test_gemini_api_batch_result_lines(tmp_path):
    # Gemini API batch output: {key, response: GenerateContentResponse} or {key, error}
    gem = json.loads((DATA / "gemini.jsonl").read_text())
    path = tmp_path / "batch.jsonl"
    path.write_text(
        json.dumps({"key": "req-1", "response": gem})
        + "\n"
        + json.dumps({"key": "req-2", "error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}})
        + "\n"
    )
    ok, bad = priced_rows(path)
    assert (ok["fmt"], ok["request_id"], ok["price_mode"]) == ("gemini-batch", "req-1", "batch")
    # batch variant on 2026-11-05: (3200-1000)*0.15 + 1000*0.03 + 400*1.25 + 600*1.25
    # = 330 + 30 + 500 + 750 = 1610 per 1M
    assert ok["cost"] == money(1610e-6)
    assert (bad["status"], bad["error"], bad["cost"]) == ("error", "400", 0.0)
