"""Demo LLM request logs, generated at demo time from a fixed seed into the demo's window (the 30
days before the scan, see `demo.demo_window`), in the vendor formats the LLM scanner reads.

The company behind them (per 30 days, about 82,000 requests, $7,300 a month):
- support/ticket-triage labels tickets with legacy gpt-4 ($30/$60 per 1M): premium misuse;
- cx/intent-router routes chat turns with claude-opus-4-1: premium misuse again;
- cx/help-center sends the same two questions with a 92k-token handbook, uncached: duplicates;
- data/contract-ingest hits o1 with 150k-token contracts; three nights a client timeout shorter
  than the model's latency turns into a retry storm of billed timeouts;
- research/research-agent runs cached agent sessions on claude-sonnet-4-5; one session loops
  1,400 times on a failing tool, another burns 120 long calls;
- platform/doc-extractor and an untagged legacy ETL role call Claude on Bedrock: the same
  tokens are the Bedrock lines of the demo billing export (`bedrock_daily`);
- the rest is ordinary traffic (search summaries on o3, onboarding emails, a LiteLLM gateway, an
  OTel-instrumented voice bot on a self-hosted model, a nightly batch, a CSV export).

`demo_llm_config()` is the `llm:` config section (budgets, a self-hosted price) the demo runs with.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
BEDROCK_REGION = "us-east-1"
SEED = 20261201
# The demo company is a B2B SaaS selling document and support AI to six customers (their plans:
# demo/economics.py). Every product feature's requests name the customer they serve; the
# research agent is used by two of them only (their contract-review teams run deep research all
# day), which is why those two carry the research GPU bill (economics allocation: team research).
CUSTOMERS = ("acme", "globex", "initech", "umbrella", "hooli", "stark")
RESEARCH_CUSTOMERS = ("globex", "initech")
# the window's day 28, 02:00-02:40 UTC: early in the anomaly check's last 48 hours, where the
# band is still narrow (it widens with every hour ahead of the history it learnt from)
DEEP_DIVE_DAY, DEEP_DIVE_HOUR = 28, 2.0


def demo_llm_config() -> dict[str, Any]:
    """The `llm:` config section for the demo: monthly budgets a company would set, and a
    self-hosted model's rate. research's run-rate ($1,511.80) passes its $1,500 budget by 0.8% (the
    loop did it); support, cx and acme stay under theirs. (The overrun is kept under 1.4%: then
    the month-to-date spend, which depends on the day the demo runs, never passes the budget, and
    the finding's severity is the same every day.)"""
    return {
        "budgets": {
            "team": {"research": 1500.0, "support": 1000.0, "cx": 2500.0},
            "customer": {"acme": 1000.0},
        },
        "key_aliases": {
            "analytics-key": {"team": "analytics", "app": "weekly-report"},
            "growth-key": {"team": "growth", "app": "campaign-writer"},  # customers' campaign drafts
        },
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
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Gen:
    rng: random.Random
    start: datetime
    end: datetime
    # customers are drawn from their own stream, so who is billed never moves a token count
    crng: random.Random = field(default_factory=lambda: random.Random(SEED + 1))

    def times(self, n: int) -> list[datetime]:
        span = (self.end - self.start).total_seconds()
        return sorted(self.start + timedelta(seconds=self.rng.uniform(0, span)) for _ in range(n))

    def at(self, day: int, hour: float) -> datetime:
        return self.start + timedelta(days=day, hours=hour)

    def customer(self, pool: tuple[str, ...] = CUSTOMERS) -> str:
        return self.crng.choice(pool)


def _chat(
    rid: str, t: datetime, model: str, pin: int, pout: int, cached: int = 0, reasoning: int = 0
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "chat.completion",
        "created": int(t.timestamp()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "..."}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": pin,
            "completion_tokens": pout,
            "total_tokens": pin + pout,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        },
    }


TICKETS = (
    "I was charged twice this month",
    "The export button does nothing",
    "Can you add dark mode?",
    "How do I change my email?",
    "App crashes on login",
    "Refund for order 1182 please",
    "Invoice shows the wrong VAT number",
    "Search is slow since Tuesday",
)
HANDBOOK = "You are the help-center assistant. Answer from the policy handbook below.\n" + "Policy. " * 24
FAQ = ("What is your refund policy?", "How do I reset my password?")


def _openai_lines(g: _Gen) -> list[Any]:
    rng, n = g.rng, 0
    out: list[Any] = []

    def rec(
        t: datetime, meta: dict[str, str], model: str, msgs: Any, response: Any, **extra: Any
    ) -> dict[str, Any]:
        r: dict[str, Any] = {
            "timestamp": _iso(t),
            "metadata": meta,
            "request": {"model": model, "messages": msgs},
        }
        r.update(extra)
        if response is not None:
            r["response"] = response
        return r

    # support/ticket-triage: one-word labels from legacy gpt-4 (premium, simple, classification)
    for t in g.times(20000):
        n += 1
        msgs = [
            {"role": "system", "content": "You label support tickets."},
            {
                "role": "user",
                "content": "Classify this support ticket into one of: billing, bug, feature, account. "
                f"Respond with only the label. Ticket: {rng.choice(TICKETS)} (#{n})",
            },
        ]
        meta = {"team": "support", "app": "ticket-triage", "feature": "auto-label", "customer": g.customer()}
        usage = _chat(f"c-tri{n}", t, "gpt-4-0613", rng.randint(700, 1000), rng.randint(1, 4))
        out.append(rec(t, meta, "gpt-4", msgs, usage, latency_ms=rng.randint(400, 1200)))
    # cx/help-center: a 92k-token handbook in front of the same two questions, never cached
    for t in g.times(7400):
        n += 1
        q = (
            FAQ[0]
            if rng.random() < 0.35
            else FAQ[1]
            if rng.random() < 0.38
            else f"Question {n} about my plan"
        )
        msgs = [{"role": "system", "content": HANDBOOK}, {"role": "user", "content": q}]
        meta = {"team": "cx", "app": "help-center", "feature": "faq", "customer": g.customer()}
        usage = _chat(
            f"c-faq{n}", t, "gpt-4.1-2025-04-14", 92000 + rng.randint(0, 400), rng.randint(120, 260)
        )
        out.append(rec(t, meta, "gpt-4.1", msgs, usage, latency_ms=rng.randint(1500, 4000)))
    # data/contract-ingest: o1 over long contracts ...
    meta = {"team": "data", "app": "contract-ingest", "feature": "clause-extraction"}
    for t in g.times(600):
        n += 1
        meta = {**meta, "customer": g.customer()}
        msgs = [{"role": "user", "content": f"Extract the termination clauses of contract C-{n}."}]
        usage = _chat(f"c-ct{n}", t, "o1-2024-12-17", rng.randint(30000, 50000), 3000, reasoning=2400)
        out.append(rec(t, meta, "o1", msgs, usage, latency_ms=rng.randint(40000, 80000)))
    # ... and three nights a 60 s client timeout under o1's 90 s: 8 rate limits, 51 billed timeouts
    for day in (5, 16, 25):
        base = g.at(day, 2.0)
        msgs = [
            {"role": "user", "content": f"Extract the termination clauses of the master agreement MSA-{day}."}
        ]
        meta = {**meta, "customer": g.customer()}  # one customer's agreement, retried
        for a in range(60):
            n += 1
            t = base + timedelta(seconds=3 * a)
            if a < 8:
                out.append(
                    rec(t, meta, "o1", msgs, None, status_code=429, error={"type": "rate_limit_exceeded"})
                )
                continue
            usage = _chat(f"c-in{n}", t, "o1-2024-12-17", 150000, 5000, reasoning=4200)
            if a < 59:
                out.append(rec(t, meta, "o1", msgs, usage, status_code=408, error={"type": "timeout"}))
            else:
                out.append(rec(t, meta, "o1", msgs, usage, status_code=200))
    # growth/email-writer: ordinary work on a small model
    for t in g.times(2000):
        n += 1
        msgs = [{"role": "user", "content": f"Write an onboarding email for account {n}."}]
        meta = {"team": "growth", "app": "email-writer", "feature": "onboarding", "customer": g.customer()}
        usage = _chat(f"c-em{n}", t, "gpt-4o-mini-2024-07-18", rng.randint(150, 300), rng.randint(250, 450))
        out.append(rec(t, meta, "gpt-4o-mini", msgs, usage))
    # search/search-summarizer on the Responses API with a reasoning model
    for t in g.times(3000):
        n += 1
        out.append(
            {
                "timestamp": _iso(t),
                "metadata": {
                    "team": "search",
                    "app": "search-summarizer",
                    "feature": "summaries",
                    "customer": g.customer(),
                },
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
    out.sort(key=lambda r: r["timestamp"])
    out.insert(57, '{"timestamp": "' + _iso(g.at(3, 10)) + '", "metadata": {"team": "support"')  # truncated
    return out


def _batch_lines(g: _Gen) -> list[dict[str, Any]]:
    rng = g.rng
    return [
        {
            "id": f"batch_req_{i}",
            "custom_id": f"nightly-tag-{i}",
            "response": {
                "status_code": 200,
                "request_id": f"req_{i:05d}",
                "body": _chat(f"c-b{i}", t, "gpt-4o-mini", rng.randint(300, 700), rng.randint(20, 80)),
            },
            "error": None,
        }
        for i, t in enumerate(g.times(1000))
    ]


def _anthropic_lines(g: _Gen) -> list[dict[str, Any]]:
    rng = g.rng
    out: list[dict[str, Any]] = []

    def msg(
        rid: str, model: str, inp: int, outp: int, cw: int = 0, cr: int = 0, stop: str = "end_turn"
    ) -> dict[str, Any]:
        return {
            "id": rid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "..."}],
            "stop_reason": stop,
            "usage": {
                "input_tokens": inp,
                "output_tokens": outp,
                "cache_creation_input_tokens": cw,
                "cache_read_input_tokens": cr,
            },
        }

    sonnet, research = (
        "claude-sonnet-4-5-20250929",
        {"team": "research", "app": "research-agent", "feature": "deep-research"},
    )
    tools = [{"name": "web_search"}]

    sessions: dict[str, str] = {}  # session -> the customer it researches for

    def step(t: datetime, sid: str, text: str, response: dict[str, Any]) -> None:
        msgs = [{"role": "user", "content": f"Research question {sid}"}, {"role": "user", "content": text}]
        if sid not in sessions:
            sessions[sid] = g.customer(RESEARCH_CUSTOMERS)
        out.append(
            {
                "timestamp": _iso(t),
                "session_id": sid,
                "metadata": {**research, "customer": sessions[sid]},
                "request": {"model": "claude-sonnet-4-5", "messages": msgs, "tools": tools},
                "response": response,
            }
        )

    # research-agent: cached multi-step sessions (the context grows, earlier steps are cache reads)
    for s, t0 in enumerate(g.times(1580)):
        sid = f"sess-{s:04d}"
        for c in range(8):
            r = msg(f"msg_{s}_{c}", sonnet, 4000, 1500, 6000 if c == 0 else 4000, 12000 * c, "tool_use")
            step(t0 + timedelta(seconds=40 * c), sid, f"tool result {s}-{c}", r)
    # the runaway: the agent re-sends the same failing tool result, 1,400 times in under 8 hours
    t0 = g.at(21, 14.0)
    for c in range(1400):
        r = msg(f"msg_loop_{c}", sonnet, 150000, 900, stop="tool_use")
        step(
            t0 + timedelta(seconds=20 * c),
            "sess-loop-7",
            "tool error: search API returned 503, please retry",
            r,
        )
    # the burn: one deep dive of 120 distinct long calls, far above the app's median session,
    # two days ago, all in one hour: inside the last 48 hours the spend-anomaly check looks at
    # (rule llm-spend-anomaly, window 48 h after 72 h of history), so it is also an hourly spike
    t0 = g.at(DEEP_DIVE_DAY, DEEP_DIVE_HOUR)
    for c in range(120):
        step(
            t0 + timedelta(seconds=20 * c),
            "sess-deep-dive",
            f"read source {c}",
            msg(f"msg_dd_{c}", sonnet, 120000, 1200),
        )
    # cx/intent-router: one-line routing decisions from the flagship Opus (premium, simple)
    for i, t in enumerate(g.times(16000)):
        msgs = [
            {"role": "system", "content": "Route the chat turn."},
            {
                "role": "user",
                "content": "Classify the intent of this message as one of: order, refund, other. "
                f"Message #{i}",
            },
        ]
        out.append(
            {
                "timestamp": _iso(t),
                "metadata": {
                    "team": "cx",
                    "app": "intent-router",
                    "feature": "routing",
                    "customer": g.customer(),
                },
                "request": {"model": "claude-opus-4-1", "messages": msgs},
                "response": msg(
                    f"msg_ir_{i}", "claude-opus-4-1-20250805", rng.randint(700, 980), rng.randint(20, 60)
                ),
            }
        )
    out.sort(key=lambda r: r["timestamp"])
    return out


LITELLM_KEYS = (
    # alias, team, model, provider, share
    ("eng-copilot-key", "platform", "claude-sonnet-4-5", "anthropic"),
    ("growth-key", "growth", "gpt-4o-mini", "openai"),
    ("analytics-key", "", "gpt-4o-mini", "openai"),
)


def _litellm_rows(g: _Gen) -> list[dict[str, Any]]:
    rng, rows = g.rng, []
    price = {"claude-sonnet-4-5": (3.0, 15.0), "gpt-4o-mini": (0.15, 0.6)}
    for i, t in enumerate(g.times(3000)):
        alias, team, model, prov = LITELLM_KEYS[i % 3]
        if model == "claude-sonnet-4-5":
            pin, pout = rng.randint(20000, 40000), rng.randint(500, 1100)
        else:
            pin, pout = rng.randint(400, 1500), rng.randint(100, 400)
        p_in, p_out = price[model]
        # the gateway's own cost map is 12% above list for gpt-4o-mini (a stale entry)
        spend = (pin * p_in + pout * p_out) / 1e6 * (1.12 if model == "gpt-4o-mini" else 1.0)
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
                "request_id": f"litellm-{i:05d}",
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
                # the engineering copilot is internal; the other keys serve customers' requests
                "end_user": "" if alias == "eng-copilot-key" else g.customer((*CUSTOMERS, "")),
                "requester_ip_address": "",
                "messages": "{}",
                "response": "{}",
                "session_id": "",
                "status": "success",
            }
        )
    return rows


# Bedrock callers: (IAM role, model id, requests per 30 days, input range, output range, metadata)
BEDROCK_CALLERS = (
    (
        "doc-extractor",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        6000,
        (68000, 112000),
        (1000, 2000),
        {"team": "platform", "app": "doc-extractor", "feature": "invoice-fields"},
    ),
    ("legacy-etl", "us.anthropic.claude-haiku-4-5-20251001-v1:0", 6000, (60000, 100000), (1000, 3000), None),
)


def _bedrock_lines(g: _Gen) -> list[dict[str, Any]]:
    rng, out = g.rng, []
    for role, model, count, (lo, hi), (olo, ohi), meta in BEDROCK_CALLERS:
        for i, t in enumerate(g.times(count)):
            pin, pout = rng.randint(lo, hi), rng.randint(olo, ohi)
            rec: dict[str, Any] = {
                "schemaType": "ModelInvocationLog",
                "schemaVersion": "1.0",
                "timestamp": _iso(t),
                "accountId": ACCOUNT,
                "identity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/worker"},
                "region": BEDROCK_REGION,
                "requestId": f"{role}-{i:05d}",
                "operation": "Converse",
                "modelId": model,
                "input": {
                    "inputContentType": "application/json",
                    "inputBodyJson": {
                        "messages": [
                            {"role": "user", "content": [{"text": f"Extract the fields of document {i}"}]}
                        ]
                    },
                    "inputTokenCount": pin,
                },
                "output": {
                    "outputContentType": "application/json",
                    "outputBodyJson": {
                        "stopReason": "end_turn",
                        "usage": {"inputTokens": pin, "outputTokens": pout, "totalTokens": pin + pout},
                    },
                    "outputTokenCount": pout,
                },
            }
            if meta:
                rec["requestMetadata"] = {**meta, "customer": g.customer()}
            out.append(rec)
    out.sort(key=lambda r: r["timestamp"])
    return out


@dataclass(frozen=True)
class BedrockDay:
    """One day's Bedrock usage of one model as the demo's billing export bills it."""

    day: datetime
    model: str
    owner: str  # the team of its callers' request metadata ("" untagged)
    input_tokens: int
    output_tokens: int
    input_usd: float
    output_usd: float


def bedrock_daily(lines: list[dict[str, Any]]) -> list[BedrockDay]:
    """The Bedrock logs summed by day and model, priced at genai-prices' per-token rates for that
    day (the catalog the LLM scanner prices them with): the billing export's Bedrock lines."""
    from genai_prices import Usage, calc_price

    sums: dict[tuple[str, str, str], list[int]] = {}
    for rec in lines:
        owner = (rec.get("requestMetadata") or {}).get("team", "")
        key = (rec["timestamp"][:10], rec["modelId"], owner)
        acc = sums.setdefault(key, [0, 0])
        acc[0] += rec["input"]["inputTokenCount"]
        acc[1] += rec["output"]["outputTokenCount"]
    out = []
    for (day, model, owner), (tin, tout) in sorted(sums.items()):
        when = datetime.fromisoformat(day).replace(tzinfo=UTC)
        # 1,000 tokens of each kind: below every long-context band, as the logged requests are
        unit = calc_price(
            Usage(input_tokens=1000, output_tokens=1000),
            model_ref=model,
            provider_id="aws",
            genai_request_timestamp=when,
        )
        p_in, p_out = Decimal(unit.input_price) / 1000, Decimal(unit.output_price) / 1000
        out.append(BedrockDay(when, model, owner, tin, tout, float(p_in * tin), float(p_out * tout)))
    return out


def _otel_lines(g: _Gen) -> list[dict[str, Any]]:
    rng = g.rng

    def attr(k: str, v: Any) -> dict[str, Any]:
        if isinstance(v, int):
            return {"key": k, "value": {"intValue": str(v)}}
        return {"key": k, "value": {"stringValue": str(v)}}

    lines = []
    for i, t in enumerate(g.times(600)):
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
                        attr("customer", g.customer()),
                    ],
                    "status": {"code": 1},
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


def _plain_rows(g: _Gen) -> list[dict[str, Any]]:
    rng = g.rng
    return [
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
            "prompt_hash": f"h{i:05d}",
            "prompt": "",
        }
        for i, t in enumerate(g.times(1000))
    ]


def _jsonl(path: Path, items: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((i if isinstance(i, str) else json.dumps(i, separators=(",", ":"))) + "\n" for i in items)
    if path.suffix == ".gz":
        with gzip.GzipFile(path, "wb", mtime=0) as fh:
            fh.write(text.encode())
    else:
        path.write_text(text, encoding="utf-8")


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def write_demo(root: Path, start: datetime, end: datetime) -> list[BedrockDay]:
    """Write the demo's logs for the window [start, end) under `root`; return the Bedrock usage
    by day, for the billing export. Same window, same bytes."""
    g = _Gen(random.Random(SEED), start, end)
    root.mkdir(parents=True, exist_ok=True)
    _jsonl(root / "openai-chat.jsonl", _openai_lines(g))
    _jsonl(root / "openai-batch-output.jsonl", _batch_lines(g))
    _jsonl(root / "anthropic-agent.jsonl", _anthropic_lines(g))
    _csv(root / "litellm-spend-logs.csv", _litellm_rows(g))
    bedrock = _bedrock_lines(g)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for rec in bedrock:
        by_day.setdefault(rec["timestamp"][:10], []).append(rec)
    for (
        day,
        recs,
    ) in by_day.items():  # S3 layout: AWSLogs/<account>/BedrockModelInvocationLogs/<region>/yyyy/mm/dd/hh/
        y, m, d = day.split("-")
        folder = (
            root
            / "bedrock"
            / "AWSLogs"
            / ACCOUNT
            / "BedrockModelInvocationLogs"
            / BEDROCK_REGION
            / y
            / m
            / d
            / "00"
        )
        _jsonl(
            folder / f"{ACCOUNT}_BedrockModelInvocationLogs_{BEDROCK_REGION}_{y}{m}{d}T0000Z.json.gz", recs
        )
    _jsonl(root / "otel-genai-spans.jsonl", _otel_lines(g))
    _csv(root / "usage-plain.csv", _plain_rows(g))
    return bedrock_daily(bedrock)


def demo_llm_paths(root: Path) -> list[str]:
    """The demo log files under `root` (each path is passed to --llm-logs)."""
    return sorted(str(p) for p in root.rglob("*") if p.is_file())
