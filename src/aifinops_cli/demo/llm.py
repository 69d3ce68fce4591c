# ruff: noqa: E501  (SQL text reads better unwrapped)
"""Demo LLM logs (deterministic, Oct-Nov 2026) in several vendor formats, for `scan --demo`.

`write_demo(dir)` regenerates the committed files under `demo/data/llm/`; `demo_llm_paths()` lists
them and `demo_llm_config()` is the `llm:` config section (budgets, a self-hosted price) that makes
the demo show every finding.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
ACCOUNT = "123456789012"


def demo_dir() -> Path:
    return Path(str(resources.files("aifinops_cli.demo") / "data" / "llm"))


def demo_llm_paths() -> list[str]:
    """The demo log files (one directory holds them all; each path is passed to --llm-logs)."""
    root = demo_dir()
    return sorted(str(p) for p in root.rglob("*") if p.is_file() and not p.name.endswith(".md"))


def demo_llm_config() -> dict[str, Any]:
    """The `llm:` config section for the demo: budgets and a self-hosted model's rate."""
    return {
        "budgets": {"team": {"research": 8.0, "support": 25.0}, "customer": {"acme": 0.05}},
        "key_aliases": {"analytics-key": {"team": "analytics", "app": "weekly-report"}},
        "prices": [
            {
                "model": "acme-llama-70b",
                "provider": "vllm",
                "input_per_1m": 0.35,
                "output_per_1m": 0.35,
                "note": "self-hosted on 2x A100 (demo)",
            }
        ],
    }


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _spread(rng: random.Random, n: int) -> list[datetime]:
    span = (END - START).total_seconds()
    return sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in range(n))


def _chat(
    rid: str, t: datetime, model: str, pin: int, pout: int, cached: int = 0, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "chat.completion",
        "created": int(t.timestamp()),
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_demo",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "..."}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": pin,
            "completion_tokens": pout,
            "total_tokens": pin + pout,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


TICKETS = [
    "I was charged twice this month",
    "The export button does nothing",
    "Can you add dark mode?",
    "How do I change my email?",
    "App crashes on login",
    "Refund for order 1182 please",
    "Invoice shows the wrong VAT number",
    "Search is slow since Tuesday",
]


def _openai_lines(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    n = 0
    # support/ticket-triage: flagship model answering one-word classifications
    for t in _spread(rng, 90):
        n += 1
        ticket = rng.choice(TICKETS) + f" (#{1000 + n})"
        msgs = [
            {"role": "system", "content": "You label support tickets."},
            {
                "role": "user",
                "content": "Classify this support ticket into one of: billing, bug, "
                f"feature, account. Respond with only the label. Ticket: {ticket}",
            },
        ]
        out.append(
            {
                "timestamp": _iso(t),
                "latency_ms": rng.randint(300, 900),
                "metadata": {"team": "support", "app": "ticket-triage", "feature": "auto-label"},
                "request": {"model": "gpt-4o", "messages": msgs},
                "response": _chat(
                    f"chatcmpl-tri{n}", t, "gpt-4o-2024-08-06", rng.randint(380, 620), rng.randint(1, 4)
                ),
            }
        )
    # cx/help-center: one long FAQ prompt sent again and again with no caching
    faq = [
        {"role": "system", "content": "You are the help-center assistant. Policy handbook: " + "x" * 200},
        {"role": "user", "content": "What is your refund policy?"},
    ]
    for t in _spread(rng, 36):
        n += 1
        out.append(
            {
                "timestamp": _iso(t),
                "latency_ms": rng.randint(900, 2500),
                "metadata": {"team": "cx", "app": "help-center", "feature": "faq", "customer": "acme"},
                "request": {"model": "gpt-4.1", "messages": faq},
                "response": _chat(f"chatcmpl-faq{n}", t, "gpt-4.1-2025-04-14", 6200, 180),
            }
        )
    # growth/email-writer: ordinary work on a small model
    for t in _spread(rng, 40):
        n += 1
        msgs = [
            {
                "role": "user",
                "content": f"Write a friendly onboarding email for customer {n}; "
                "mention the three setup steps and a call to action.",
            }
        ]
        out.append(
            {
                "timestamp": _iso(t),
                "latency_ms": rng.randint(1500, 4000),
                "metadata": {
                    "team": "growth",
                    "app": "email-writer",
                    "feature": "onboarding",
                    "customer": rng.choice(["acme", "globex", "initech"]),
                },
                "request": {"model": "gpt-4o-mini", "messages": msgs},
                "response": _chat(
                    f"chatcmpl-em{n}",
                    t,
                    "gpt-4o-mini-2024-07-18",
                    rng.randint(150, 300),
                    rng.randint(250, 450),
                ),
            }
        )
    # data/ingest: retry storms, 429s then timeouts that were billed, then one success
    for k, base in enumerate(
        [
            datetime(2026, 10, 14, 3, 0, tzinfo=UTC),
            datetime(2026, 11, 2, 3, 0, tzinfo=UTC),
            datetime(2026, 11, 18, 3, 0, tzinfo=UTC),
        ]
    ):
        msgs = [{"role": "user", "content": f"Summarise batch file ingest-{k}.csv: " + "row;" * 300}]
        for a in range(7):
            n += 1
            t = base + timedelta(seconds=a * 3.5)
            rec: dict[str, Any] = {
                "timestamp": _iso(t),
                "metadata": {"team": "data", "app": "ingest"},
                "request": {"model": "gpt-4o-mini", "messages": msgs},
            }
            if a < 4:
                rec["status_code"] = 429
                rec["error"] = {"type": "rate_limit_exceeded", "code": "rate_limit_exceeded"}
            elif a < 6:
                rec["status_code"] = 408
                rec["error"] = {"type": "timeout", "code": "timeout"}
                rec["response"] = _chat(f"chatcmpl-in{n}", t, "gpt-4o-mini-2024-07-18", 1500, 600)
            else:
                rec["status_code"] = 200
                rec["response"] = _chat(f"chatcmpl-in{n}", t, "gpt-4o-mini-2024-07-18", 1500, 600)
            out.append(rec)
    # search/summaries on the Responses API with a reasoning model
    for t in _spread(rng, 12):
        n += 1
        out.append(
            {
                "timestamp": _iso(t),
                "metadata": {"team": "search", "app": "search-summarizer", "feature": "summaries"},
                "request": {"model": "o3", "input": f"Analyze these 20 results step by step #{n}"},
                "response": {
                    "id": f"resp_{n}",
                    "object": "response",
                    "created_at": int(t.timestamp()),
                    "status": "completed",
                    "model": "o3-2025-04-16",
                    "usage": {
                        "input_tokens": 6000,
                        "input_tokens_details": {"cached_tokens": 2048},
                        "output_tokens": 2200,
                        "output_tokens_details": {"reasoning_tokens": 1600},
                        "total_tokens": 8200,
                    },
                },
            }
        )
    out.insert(57, '{"timestamp": "2026-10-20T10:00:00Z", "metadata": {"team": "support"')  # truncated
    return out


def _batch_lines(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i, t in enumerate(_spread(rng, 20)):
        out.append(
            {
                "id": f"batch_req_{i}",
                "custom_id": f"nightly-tag-{i}",
                "response": {
                    "status_code": 200,
                    "request_id": f"req_{i:04d}",
                    "body": _chat(
                        f"chatcmpl-b{i}", t, "gpt-4o-mini", rng.randint(300, 700), rng.randint(20, 80)
                    ),
                },
                "error": None,
            }
        )
    return out


def _anthropic_lines(rng: random.Random) -> list[dict[str, Any]]:
    out = []

    def msg(rid: str, model: str, inp: int, outp: int, cw: int, cr: int) -> dict[str, Any]:
        return {
            "id": rid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "..."}],
            "stop_reason": "tool_use",
            "usage": {
                "input_tokens": inp,
                "output_tokens": outp,
                "cache_creation_input_tokens": cw,
                "cache_read_input_tokens": cr,
                "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0},
                "service_tier": "standard",
            },
        }

    starts = _spread(rng, 14)
    for s, t0 in enumerate(starts):
        sid = f"sess-{s:03d}"
        for c in range(5):
            t = t0 + timedelta(seconds=40 * c)
            msgs = [
                {"role": "user", "content": f"Research question {s}"},
                {"role": "user", "content": f"tool result {s}-{c}"},
            ]
            out.append(
                {
                    "timestamp": _iso(t),
                    "session_id": sid,
                    "latency_ms": rng.randint(2000, 6000),
                    "metadata": {"team": "research", "app": "research-agent", "feature": "deep-research"},
                    "request": {
                        "model": "claude-sonnet-4-5",
                        "messages": msgs,
                        "tools": [{"name": "web_search"}],
                    },
                    "response": msg(
                        f"msg_{s}_{c}",
                        "claude-sonnet-4-5-20250929",
                        800 + 500 * c,
                        400,
                        2000 if c == 0 else 0,
                        0 if c == 0 else 2000,
                    ),
                }
            )
    # the runaway: the agent keeps re-sending the same failing tool result
    t0 = datetime(2026, 11, 12, 14, 0, tzinfo=UTC)
    for c in range(45):
        t = t0 + timedelta(seconds=20 * c)
        msgs = [
            {"role": "user", "content": "Research question loop"},
            {"role": "user", "content": "tool error: search API returned 503, please retry"},
        ]
        out.append(
            {
                "timestamp": _iso(t),
                "session_id": "sess-loop-7",
                "metadata": {"team": "research", "app": "research-agent", "feature": "deep-research"},
                "request": {
                    "model": "claude-sonnet-4-5",
                    "messages": msgs,
                    "tools": [{"name": "web_search"}],
                },
                "response": msg(f"msg_loop_{c}", "claude-sonnet-4-5-20250929", 60000, 900, 0, 0),
            }
        )
    return out


def _litellm_rows(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i, t in enumerate(_spread(rng, 60)):
        if i % 3 == 0:
            team, alias, model, prov = "", "legacy-batch-key", "claude-haiku-4-5", "anthropic"
        elif i % 3 == 1:
            team, alias, model, prov = "growth", "growth-key", "gpt-4o-mini", "openai"
        else:
            team, alias, model, prov = "", "analytics-key", "gpt-4o-mini", "openai"
        pin, pout = rng.randint(400, 1500), rng.randint(100, 400)
        price = {"claude-haiku-4-5": (1.0, 5.0), "gpt-4o-mini": (0.15, 0.6)}[model]
        spend = (pin * price[0] + pout * price[1]) / 1e6 * (1.12 if model == "gpt-4o-mini" else 1.0)
        meta = {
            "user_api_key_alias": alias,
            "user_api_key_team_alias": team or None,
            "usage_object": {
                "prompt_tokens": pin,
                "completion_tokens": pout,
                "prompt_tokens_details": {"cached_tokens": 0},
            },
        }
        end = t + timedelta(milliseconds=rng.randint(400, 3000))
        rows.append(
            {
                "request_id": f"litellm-{i:04d}",
                "call_type": "acompletion",
                "api_key": hashlib.sha256(alias.encode()).hexdigest(),
                "spend": round(spend, 8),
                "total_tokens": pin + pout,
                "prompt_tokens": pin,
                "completion_tokens": pout,
                "startTime": t.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "endTime": end.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "request_duration_ms": int((end - t).total_seconds() * 1000),
                "model": model,
                "model_id": "",
                "model_group": model,
                "custom_llm_provider": prov,
                "api_base": "",
                "user": "",
                "metadata": json.dumps(meta),
                "cache_hit": "False",
                "cache_key": "",
                "request_tags": "[]",
                "team_id": team,
                "organization_id": "",
                "end_user": rng.choice(["acme", "globex", ""]),
                "requester_ip_address": "",
                "messages": "{}",
                "response": "{}",
                "session_id": "",
                "status": "success",
            }
        )
    return rows


def _bedrock_lines(rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for i, t in enumerate(_spread(rng, 40)):
        pin, pout = rng.randint(300, 700), rng.randint(20, 90)
        out.append(
            {
                "schemaType": "ModelInvocationLog",
                "schemaVersion": "1.0",
                "timestamp": _iso(t),
                "accountId": ACCOUNT,
                "identity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/doc-extractor/worker"},
                "region": "us-east-1",
                "requestId": f"bedrock-{i:04d}",
                "operation": "Converse",
                "modelId": "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
                "requestMetadata": {"team": "platform", "app": "doc-extractor", "feature": "invoice-fields"},
                "input": {
                    "inputContentType": "application/json",
                    "inputBodyJson": {
                        "messages": [
                            {
                                "role": "user",
                                "content": [
                                    {
                                        "text": f"Extract the invoice number and total as JSON from document {i}"
                                    }
                                ],
                            }
                        ]
                    },
                    "inputTokenCount": pin,
                },
                "output": {
                    "outputContentType": "application/json",
                    "outputBodyJson": {
                        "output": {"message": {"role": "assistant", "content": [{"text": "{}"}]}},
                        "stopReason": "end_turn",
                        "usage": {"inputTokens": pin, "outputTokens": pout, "totalTokens": pin + pout},
                        "metrics": {"latencyMs": rng.randint(500, 1500)},
                    },
                    "outputTokenCount": pout,
                },
            }
        )
    return out


def _otel_lines(rng: random.Random) -> list[dict[str, Any]]:
    def attr(k: str, v: Any) -> dict[str, Any]:
        if isinstance(v, int):
            return {"key": k, "value": {"intValue": str(v)}}
        return {"key": k, "value": {"stringValue": str(v)}}

    lines = []
    for i, t in enumerate(_spread(rng, 12)):
        spans = []
        for j in range(3):
            st = t + timedelta(seconds=5 * j)
            model, prov = ("acme-llama-70b", "vllm") if j == 2 else ("gpt-4o-mini", "openai")
            ns = int(st.timestamp() * 1e9)
            spans.append(
                {
                    "traceId": f"{i:032x}",
                    "spanId": f"{i * 10 + j:016x}",
                    "name": f"chat {model}",
                    "kind": 3,
                    "startTimeUnixNano": str(ns),
                    "endTimeUnixNano": str(ns + rng.randint(200, 900) * 1_000_000),
                    "attributes": [
                        attr("gen_ai.operation.name", "chat"),
                        attr("gen_ai.provider.name", prov),
                        attr("gen_ai.request.model", model),
                        attr("gen_ai.response.model", model),
                        attr("gen_ai.response.id", f"otel-{i}-{j}"),
                        attr("gen_ai.conversation.id", f"call-{i}"),
                        attr("gen_ai.usage.input_tokens", rng.randint(200, 900)),
                        attr("gen_ai.usage.output_tokens", rng.randint(30, 120)),
                        attr("customer", rng.choice(["acme", "globex"])),
                    ],
                    "status": {"code": 1},
                }
            )
        spans.append(
            {
                "traceId": f"{i:032x}",
                "spanId": f"{i * 10 + 9:016x}",
                "name": "HTTP POST /call",
                "startTimeUnixNano": str(int(t.timestamp() * 1e9)),
                "endTimeUnixNano": str(int(t.timestamp() * 1e9) + 10**9),
                "attributes": [attr("http.method", "POST")],
            }
        )
        lines.append(
            {
                "resourceSpans": [
                    {
                        "resource": {
                            "attributes": [attr("service.name", "voice-bot"), attr("team", "voice")]
                        },
                        "scopeSpans": [
                            {"scope": {"name": "opentelemetry.instrumentation.openai"}, "spans": spans}
                        ],
                    }
                ]
            }
        )
    return lines


def _plain_rows(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i, t in enumerate(_spread(rng, 30)):
        rows.append(
            {
                "timestamp": _iso(t),
                "provider": "openai",
                "model": "gpt-4o",
                "input_tokens": rng.randint(250, 500),
                "output_tokens": rng.randint(10, 40),
                "cached_input_tokens": 0,
                "cache_write_tokens": 0,
                "reasoning_tokens": 0,
                "cost_usd": "",
                "latency_ms": rng.randint(300, 800),
                "status": "ok",
                "error": "",
                "request_id": f"fin-{i}",
                "trace_id": "",
                "session_id": "",
                "user": "",
                "team": "finance",
                "app": "invoice-parser",
                "feature": "vat-check",
                "customer": "",
                "prompt_hash": f"h{i:04d}",
                "prompt": "",
            }
        )
    return rows


def write_demo(root: Path) -> None:
    rng = random.Random(20261001)
    root.mkdir(parents=True, exist_ok=True)

    def jsonl(path: Path, items: list[Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(
            (i if isinstance(i, str) else json.dumps(i, separators=(",", ":"))) + "\n" for i in items
        )
        if path.suffix == ".gz":
            with gzip.GzipFile(path, "wb", mtime=0) as fh:
                fh.write(text.encode())
        else:
            path.write_text(text, encoding="utf-8")

    def csv_file(path: Path, rows: list[dict[str, Any]]) -> None:
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    jsonl(root / "openai-chat.jsonl", _openai_lines(rng))
    jsonl(root / "openai-batch-output.jsonl", _batch_lines(rng))
    jsonl(root / "anthropic-agent.jsonl", _anthropic_lines(rng))
    csv_file(root / "litellm-spend-logs.csv", _litellm_rows(rng))
    jsonl(
        root
        / "bedrock"
        / f"AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/us-east-1/2026/11/invocations.json.gz",
        _bedrock_lines(rng),
    )
    jsonl(root / "otel-genai-spans.jsonl", _otel_lines(rng))
    csv_file(root / "usage-plain.csv", _plain_rows(rng))


if __name__ == "__main__":  # python -m aifinops_cli.demo.llm
    write_demo(Path(__file__).resolve().parent / "data" / "llm")
