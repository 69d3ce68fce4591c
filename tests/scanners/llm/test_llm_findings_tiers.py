"""The model tiers file against genai-prices' own API, planted premium misuse of three vendors,
and logged-cost differences named by team and session. Amounts computed by hand here."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from genai_prices import data_snapshot

from aifinops_cli.scanners.llm.pricing import load_tiers
from tests.llm_helpers import LITELLM_SPEND_COLUMNS, MONTH, findings, scan, write_jsonl
from tests.paths import ROOT

TIERS = ROOT / "src/aifinops_cli/pricing/data/llm_tiers.yaml"


def _base(value) -> float:
    """A genai-prices price at small inputs (tiered prices start at their base)."""
    return float(value if isinstance(value, Decimal) else value.base)


def test_every_tier_model_is_in_genai_prices_and_its_pair_is_cheaper():
    snapshot = data_snapshot.get_snapshot()
    when = datetime(2026, 10, 1, tzinfo=UTC)
    entries = yaml.safe_load(TIERS.read_text())["premium"]
    assert load_tiers().entries == entries  # the bundled file is the one checked here
    vendors = {e["provider"] for e in entries}
    assert {
        "anthropic",
        "openai",
        "google",
        "aws",
        "azure",
        "mistral",
        "cohere",
        "x-ai",
        "groq",
        "together",
        "openrouter",
    } <= vendors
    for e in entries:
        provider = snapshot.find_provider(None, e["provider"], None)
        models = {m.id: m for m in provider.models}
        # the cheaper model is priced by name, as the scanner prices it: it must resolve to itself
        _, cheap = snapshot.find_provider_model(e["cheaper"], None, e["provider"], None)
        assert cheap.id == e["cheaper"]
        cp = cheap.get_prices(when)
        for name in e["models"]:
            # premium names are genai-prices model ids: the scanner matches the id a logged name
            # resolves to (claude-3-opus-20240229 -> claude-3-opus-latest)
            assert name in models, f"{e['provider']}/{name} is not a genai-prices model"
            mp = models[name].get_prices(when)
            assert _base(cp.input_mtok) < _base(mp.input_mtok), (e["provider"], name)
            assert _base(cp.output_mtok) < _base(mp.output_mtok), (e["provider"], name)
    # the names the issue lists are all covered
    names = {(e["provider"], m) for e in entries for m in e["models"]}
    for needed in [
        ("anthropic", "claude-3-opus-latest"),
        ("anthropic", "claude-opus-4-5"),
        ("openai", "gpt-4"),
        ("openai", "gpt-4o"),
        ("openai", "gpt-4.1"),
        ("openai", "gpt-5"),
        ("openai", "o1"),
        ("openai", "o3"),
        ("google", "gemini-2.5-pro"),
        ("google", "gemini-1.5-pro"),
        ("mistral", "mistral-large"),
        ("together", "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"),
        ("cohere", "command-r-plus"),
        ("x-ai", "grok-3"),
        ("aws", "regional.anthropic.claude-3-opus-20240229-v1:0"),
    ]:
        assert needed in names, needed


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_planted_misuse_of_claude_3_opus_gemini_25_pro_and_mistral_large(tmp_path):
    # Anthropic Messages: 30 classification calls to Claude 3 Opus, 400 input / 5 output tokens
    opus = [
        {
            "timestamp": f"2026-10-05T10:{i:02d}:00Z",
            "metadata": {"team": "support", "app": "triage"},
            "request": {
                "model": "claude-3-opus-20240229",
                "messages": [
                    {
                        "role": "user",
                        "content": f"Classify ticket {i}: billing or bug? Respond with only the label",
                    }
                ],
            },
            "response": {
                "id": f"msg_{i}",
                "type": "message",
                "role": "assistant",
                "model": "claude-3-opus-20240229",
                "content": [{"type": "text", "text": "bug"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 400, "output_tokens": 5},
            },
        }
        for i in range(30)
    ]
    # plain CSV: 100 small Gemini 2.5 Pro calls and 30 small Mistral Large calls, 900 in / 100 out
    rows = [
        {
            "timestamp": f"2026-10-05T11:{i % 60:02d}:{i // 60:02d}Z",
            "provider": "google",
            "model": "gemini-2.5-pro",
            "input_tokens": 900,
            "output_tokens": 100,
            "team": "growth",
            "app": "tagger",
        }
        for i in range(100)
    ]
    rows += [
        {
            "timestamp": f"2026-10-05T12:{i:02d}:00Z",
            "provider": "mistral",
            "model": "mistral-large-latest",
            "input_tokens": 900,
            "output_tokens": 100,
            "team": "data",
            "app": "extract",
        }
        for i in range(30)
    ]
    result = scan(
        [str(write_jsonl(tmp_path / "opus.jsonl", opus)), str(write_csv(tmp_path / "calls.csv", rows))]
    )
    got = {f.observation.attributes["model"]: f for f in findings(result)["llm-premium-simple"]}
    assert {m: f.observation.attributes["cheaper_model"] for m, f in got.items()} == {
        "claude-3-opus-20240229": "claude-haiku-4-5",
        "gemini-2.5-pro": "gemini-2.5-flash",
        "mistral-large-latest": "mistral-small-latest",
    }
    # Claude 3 Opus $15/$75 per 1M, Haiku 4.5 $1/$5: 400*15 + 5*75 = 6375 vs 400*1 + 5*5 = 425;
    # 30 * (6375 - 425) / 1e6 = $0.1785 observed; x30.4167 = $5.4294 a month
    assert (
        got["claude-3-opus-20240229"].estimated_monthly_savings_usd
        == round(30 * 5950 / 1e6 * MONTH, 2)
        == 5.43
    )
    # Gemini 2.5 Pro $1.25/$10 (inputs under 200k), 2.5 Flash $0.30/$2.50: 900*1.25 + 100*10 = 2125
    # vs 900*0.30 + 100*2.50 = 520; 100 * 1605 / 1e6 = $0.1605; x30.4167 = $4.8819
    assert got["gemini-2.5-pro"].estimated_monthly_savings_usd == round(100 * 1605 / 1e6 * MONTH, 2) == 4.88
    # Mistral Large $2/$6, Mistral Small $0.15/$0.60: 900*2 + 100*6 = 2400 vs 900*0.15 + 100*0.6 = 195;
    # 30 * 2205 / 1e6 = $0.06615; x30.4167 = $2.0121
    assert (
        got["mistral-large-latest"].estimated_monthly_savings_usd == round(30 * 2205 / 1e6 * MONTH, 2) == 2.01
    )


def test_logged_cost_differences_name_the_team_and_session_behind_them(tmp_path):
    # gpt-4o-mini $0.15/$0.60: 1000 input + 100 output = 150 + 60 = 210 per 1M = $0.00021 a request.
    # Team a logs the right cost; team b's gateway logs double ($0.00042) in session sb.
    rows = [
        {
            "timestamp": f"2026-10-05T10:{i:02d}:00Z",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 1000,
            "output_tokens": 100,
            "cost_usd": 0.00021 if i % 2 == 0 else 0.00042,
            "team": "a" if i % 2 == 0 else "b",
            "session_id": "sa" if i % 2 == 0 else "sb",
        }
        for i in range(20)
    ]
    llm = scan([str(write_csv(tmp_path / "c.csv", rows))]).analysis["llm"]
    [model] = llm["data"]["discrepancies"]
    # logged 10 * 0.00021 + 10 * 0.00042 = $0.0063 vs computed 20 * 0.00021 = $0.0042: +50%
    assert model["logged"] == pytest.approx(0.0063) and model["computed"] == pytest.approx(0.0042)
    assert model["diff_share"] == pytest.approx(0.5)
    who = llm["data"]["discrepancies_by_who"]
    # team b and session sb: logged $0.0042 vs computed $0.0021, +$0.0021 (+100%); team a adds nothing
    top = {(d["dimension"], d["name"]): d for d in who[:2]}
    assert set(top) == {("team", "b"), ("session", "sb")}
    for d in top.values():
        assert d["diff"] == pytest.approx(0.0021) and d["diff_share"] == pytest.approx(1.0)
        assert d["compared"] == 10
    assert len(who) == 2  # team a and session sa log right: not named
    [table] = [t for t in llm["tables"] if t["title"].startswith("Largest logged vs computed")]
    assert table["rows"][0][:2] in (["session", "sb"], ["team", "b"]) and table["rows"][0][-1] == "+100.0%"


def test_logged_cost_differences_name_the_api_key(tmp_path):
    # LiteLLM spend logs (CSV): gpt-4o-mini, 1000 input + 200 output = 150 + 120 = 270 per 1M =
    # $0.00027 a request. Key k1 logs exactly that; key k2 logs $0.0004 (4 requests each).
    fields = LITELLM_SPEND_COLUMNS
    rows = []
    for i in range(8):
        key = "k1" if i < 4 else "k2"
        meta = {"user_api_key_alias": key, "user_api_key_team_alias": "growth"}
        rows.append(
            {
                "request_id": f"r{i}",
                "call_type": "acompletion",
                "api_key": f"hash-{key}",
                "spend": "0.00027" if key == "k1" else "0.0004",
                "total_tokens": 1200,
                "prompt_tokens": 1000,
                "completion_tokens": 200,
                "startTime": f"2026-10-05 12:0{i}:00.000",
                "endTime": f"2026-10-05 12:0{i}:01.000",
                "model": "gpt-4o-mini",
                "custom_llm_provider": "openai",
                "metadata": json.dumps(meta),
                "team_id": "",
                "end_user": "",
                "request_tags": "[]",
                "cache_hit": "False",
                "status": "success",
                "messages": "{}",
            }
        )
    path = tmp_path / "spend.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    who = {
        (d["dimension"], d["name"]): d
        for d in scan([str(path)]).analysis["llm"]["data"]["discrepancies_by_who"]
    }
    # k2: logged 4 * 0.0004 = $0.0016 vs computed 4 * 0.00027 = $0.00108: +$0.00052 (+48.1%)
    k2 = who[("key", "k2")]
    assert k2["diff"] == pytest.approx(4 * (0.0004 - 0.00027)) and k2["diff_share"] == pytest.approx(
        0.13 / 0.27
    )
    # the team behind both keys carries the same difference; k1 logs right and is not named
    assert who[("team", "growth")]["diff"] == pytest.approx(0.00052)
    assert ("key", "k1") not in who
