"""Token prices, built once per (provider, model, day) and joined over all records in DuckDB.

genai-prices (pydantic) is the catalog: offline bundled data, model aliases, dated price changes
and input-size tiers. Pricing one record at a time through its API is slow (~13k records/s), so
we ask it only for the distinct models and days in the logs and write a small price table with
one row per (provider, model, day, input-size band). Prices the user configures (negotiated
rates, self-hosted models) replace catalog prices and say so in `source`.

Billing modes: each price row is for one `mode` (standard, batch, flex, priority). Batch and
service-tier rates come from genai-prices' price variants (`processing: batch`,
`service_tier: flex|priority`) where the catalog has one for that model and day; where it has
none, the vendor's documented multiplier (`MODE_FALLBACK`) applies and the row's `source` says
so, with the page it comes from.

Cached input in a batch, the same on both paths (`_cache_rule`): OpenAI's batch discount is 50%
off every token kind (its pricing page's Batch table lists cached input at half the standard
cached price, gpt-5 0.0625 vs 0.125, which genai-prices' gpt-5 variant carries, and a Batch's
usage reports `input_tokens_details.cached_tokens`); Anthropic's is 50% of all usage, cache
reads and writes included; Google documents that its batch and cache-hit discounts do not
stack (cached tokens bill at the cache price). A catalog variant without cache prices of its own
(gpt-4o-mini's: get_prices would hand back the undiscounted standard 0.075) gets them from the
standard ones by that rule (0.075 x 0.5 = 0.0375), as the documented-50% fallback does; the
row's `source` says which rule and page.

Billing rules applied in SQL (see `cost_sql`): cache reads at the cache-read price, cache writes
at the cache-write price, both falling back to the input price when the model has none; reasoning
tokens at the reasoning price, falling back to the output price (OpenAI bills them as output).
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from aifinops_cli.core.plugin import ScannerError
from aifinops_cli.core.yamlsrc import SourceError, load_one, read_text

PROVIDER_ALIASES = {
    "bedrock": "aws",
    "aws.bedrock": "aws",
    "amazon": "aws",
    "vertex_ai": "google",
    "vertex": "google",
    "gemini": "google",
    "gcp.vertex_ai": "google",
    "azure_openai": "azure",
    "azure.ai.openai": "azure",
    "openai_compatible": None,
    "text-completion-openai": "openai",
    "xai": "x-ai",
    "mistralai": "mistral",
}
PRICE_COLUMNS = ("p_in", "p_out", "p_cached", "p_cache_write", "p_reasoning", "p_cache_write_1h")
# Anthropic bills 1-hour prompt-cache writes at 2x the base input price (5-minute ones at 1.25x,
# the catalog's cache-write price); used where the catalog has no cache_write_1h price
CACHE_WRITE_1H_INPUT_MULTIPLE = 2.0
MODES = ("standard", "batch", "flex", "priority")
_BATCH_DOCS = {
    "openai": "https://platform.openai.com/docs/guides/batch",
    "azure": "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/batch",
    "anthropic": "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing",
    "google": "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-gemini",
    "aws": "https://aws.amazon.com/bedrock/pricing/",
    "mistral": "https://docs.mistral.ai/capabilities/batch/",
}
# (mode, provider) -> (multiplier of the standard price, where the vendor documents it)
MODE_FALLBACK: dict[tuple[str, str], tuple[float, str]] = {
    **{
        ("batch", p): (0.5, f"{p} documents batch at 50% of the standard price: {url}")
        for p, url in _BATCH_DOCS.items()
    },
    ("flex", "openai"): (
        0.5,
        "OpenAI prices flex processing at Batch API rates (50%): "
        "https://platform.openai.com/docs/guides/flex-processing",
    ),
}


def genai_prices_version() -> str:
    try:
        import genai_prices
    except ImportError as exc:
        raise ScannerError(
            "pricing LLM logs needs genai-prices: pip install 'aifinops[llm]' (or pip install "
            "genai-prices), or price every model in config under llm.prices"
        ) from exc
    return str(genai_prices.__version__)


@dataclass(frozen=True)
class Override:
    model: str  # logged model name or glob, case-insensitive
    provider: str | None
    p_in: float
    p_out: float
    p_cached: float
    p_cache_write: float
    p_reasoning: float
    note: str
    price_date: str

    @classmethod
    def parse(cls, item: dict[str, Any]) -> Override:
        try:
            p_in = float(item["input_per_1m"])
            p_out = float(item.get("output_per_1m", p_in))
        except (KeyError, TypeError, ValueError) as exc:
            raise ScannerError(
                f"config llm.prices entry {item!r}: needs model and input_per_1m "
                "(and usually output_per_1m), in USD per 1M tokens"
            ) from exc
        if "model" not in item:
            raise ScannerError(f"config llm.prices entry {item!r}: missing `model`")
        return cls(
            model=str(item["model"]).lower(),
            provider=str(item["provider"]).lower() if item.get("provider") else None,
            p_in=p_in,
            p_out=p_out,
            p_cached=float(item.get("cached_input_per_1m", p_in)),
            p_cache_write=float(item.get("cache_write_per_1m", p_in)),
            p_reasoning=float(item.get("reasoning_per_1m", p_out)),
            note=str(item.get("note", "negotiated or self-hosted rate")),
            price_date=str(item.get("price_date", "config")),
        )

    def matches(self, provider: str, model: str) -> bool:
        if self.provider and self.provider != (provider or "").lower():
            return False
        return fnmatch.fnmatchcase((model or "").lower(), self.model)


@dataclass
class Tiers:
    """Premium models and the cheaper same-vendor model for simple requests."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""

    def cheaper_for(self, provider: str, model: str, priced_as: str | None) -> str | None:
        names = {(model or "").lower(), (priced_as or "").lower()}
        for entry in self.entries:
            if entry.get("provider") and entry["provider"] != provider:
                continue
            if names & {m.lower() for m in entry.get("models", [])}:
                return str(entry["cheaper"])
        return None


def load_tiers(path: str | None = None) -> Tiers:
    try:
        if path:
            text, source = read_text(Path(path), "model tiers file"), str(path)
        else:
            text = (resources.files("aifinops_cli.pricing") / "data" / "llm_tiers.yaml").read_text("utf-8")
            source = "bundled:llm_tiers.yaml"
        doc = load_one(text, source, lines=False).data or {}
        entries = list(doc.get("premium", []))
        for entry in entries:
            if not entry.get("models") or not entry.get("cheaper"):
                raise ValueError(f"entry {entry!r} needs `models` and `cheaper`")
    except SourceError as exc:
        raise ScannerError(f"config llm.tiers_file: {exc}") from None
    except (ValueError, AttributeError, TypeError) as exc:
        raise ScannerError(f"model tiers file {path or 'bundled:llm_tiers.yaml'}: {exc}") from exc
    return Tiers(entries, source)


@dataclass
class Resolved:
    provider: str
    model: str
    priced_as: str | None  # genai-prices model id, or the override pattern
    source: str
    reason: str = ""  # why unpriced


def _decimal(value: Any, total_input: int) -> float | None:
    """A price as float at a given total input size (genai-prices tiers are cliffs)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    applicable = value.base
    for tier in reversed(value.tiers):
        if total_input > tier.start:
            applicable = tier.price
            break
    return float(applicable)


def _bands(model_price: Any) -> list[tuple[int, int]]:
    """Input-size bands (exclusive low, inclusive high) where every price is constant."""
    starts: set[int] = set()
    for value in model_price.__dict__.values():
        for tier in getattr(value, "tiers", []) or []:
            starts.add(int(tier.start))
    edges = [-1, *sorted(starts), 2**62]
    return list(itertools.pairwise(edges))


@dataclass
class PriceBook:
    overrides: list[Override]
    discount_pct: float = 0.0
    version: str = ""
    resolved: dict[tuple[str, str], Resolved] = field(default_factory=dict)
    # Azure OpenAI responses may name the deployment, not the model (llm.azure_deployments)
    azure_deployments: dict[str, str] = field(default_factory=dict)

    def resolve(self, provider: str, model: str) -> tuple[Resolved, Any]:
        from genai_prices import data_snapshot

        key = (provider or "", model or "")
        for ov in self.overrides:
            if ov.matches(provider, model):
                res = Resolved(provider, model, ov.model, f"user-override: {ov.note}")
                self.resolved[key] = res
                return res, ov
        snapshot = data_snapshot.get_snapshot()
        pid = PROVIDER_ALIASES.get((provider or "").lower(), (provider or "").lower() or None)
        ref, via = model, ""
        if pid == "azure" and model in self.azure_deployments:
            ref = self.azure_deployments[model]
            via = f"; azure deployment {model} -> {ref} (llm.azure_deployments)"
        try:
            try:
                _, info = snapshot.find_provider_model(ref, None, pid, None)
            except LookupError as exc:
                if pid is None or "provider" not in str(exc):
                    raise
                _, info = snapshot.find_provider_model(ref, None, None, None)
        except LookupError as exc:
            res = Resolved(provider, model, None, "", f"not in genai-prices {self.version}: {exc}")
            self.resolved[key] = res
            return res, None
        res = Resolved(provider, model, info.id, f"genai-prices {self.version}{via}")
        self.resolved[key] = res
        return res, info

    def rows(self, wanted: list[tuple[str, str, date, str]]) -> list[dict[str, Any]]:
        """Price rows for (provider, model, day, mode); unknown models get no row (unpriced)."""
        out: list[dict[str, Any]] = []
        cache: dict[tuple[str, str], tuple[Resolved, Any]] = {}
        for provider, model, day, mode in wanted:
            key = (provider or "", model or "")
            if key not in cache:
                cache[key] = self.resolve(provider, model)
            res, info = cache[key]
            if info is None:
                continue
            base = {
                "provider": provider or "",
                "model": model,
                "day": day,
                "mode": mode,
                "priced_as": res.priced_as,
                "source": res.source,
            }
            if isinstance(info, Override):
                # a configured rate is what the user pays, whatever the mode
                out.append(
                    {
                        **base,
                        "band_lo": -1,
                        "band_hi": 2**62,
                        "p_in": info.p_in,
                        "p_out": info.p_out,
                        "p_cached": info.p_cached,
                        "p_cache_write": info.p_cache_write,
                        "p_reasoning": info.p_reasoning,
                        "p_cache_write_1h": None,
                        "price_from": info.price_date,
                        "discount_pct": 0.0,
                    }
                )
                continue
            when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            mode_price = price_for_mode(
                info,
                when,
                mode,
                PROVIDER_ALIASES.get((provider or "").lower(), (provider or "").lower()) or "",
            )
            mp = mode_price.prices
            factor = 1.0 - self.discount_pct / 100.0
            if mode_price.note:
                base["source"] = f"{res.source}; {mode_price.note}"
            since = ""
            if isinstance(info.prices, list):
                for cond in reversed(info.prices):
                    constraint = cond.constraint
                    if constraint is None or constraint.active(when):
                        since = str(getattr(constraint, "start_date", "") or "")
                        break
            for lo, hi in _bands(mp):
                size = hi if hi < 2**62 else lo + 1
                p_in = mode_price.price("input_mtok", size)
                p_out = mode_price.price("output_mtok", size)
                if p_in is None and p_out is None:
                    continue
                p_in = p_in or 0.0
                p_out = p_out if p_out is not None else 0.0
                p_cr = mode_price.price("cache_read_mtok", size)
                p_cw = mode_price.price("cache_write_mtok", size)
                p_re = mode_price.price("output_reasoning_mtok", size)
                p_1h = mode_price.price("cache_write_1h_mtok", size)
                out.append(
                    {
                        **base,
                        "band_lo": lo,
                        "band_hi": hi,
                        "p_in": p_in * factor,
                        "p_out": p_out * factor,
                        "p_cached": (p_cr if p_cr is not None else p_in) * factor,
                        "p_cache_write": (p_cw if p_cw is not None else p_in) * factor,
                        "p_reasoning": (p_re if p_re is not None else p_out) * factor,
                        "p_cache_write_1h": None if p_1h is None else p_1h * factor,
                        "price_from": since,
                        "discount_pct": self.discount_pct,
                    }
                )
        return out


CACHE_FIELDS = ("cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
# Google documents that its batch and cache-hit discounts do not stack: cached tokens in a batch
# bill at the cache price (the other vendors' batch discount covers cached input, see above)
_BATCH_CACHE_NO_STACK = {
    "google": "Google: the batch and cache-hit discounts do not stack, cached tokens bill at the cache "
    "price: https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-gemini",
}


@dataclass(frozen=True)
class ModePrice:
    """The prices of one billing mode on a day: `prices` x `multiplier`, except the cache prices
    named in `cache`, which are (that ModelPrice) x (that multiplier): a cache price a catalog
    variant lacks, or a fallback whose cache rule differs (see the module docstring)."""

    prices: Any
    multiplier: float
    note: str
    cache: dict[str, tuple[Any, float]] = field(default_factory=dict)

    def price(self, name: str, size: int) -> float | None:
        prices, mult = self.cache.get(name, (self.prices, self.multiplier))
        value = _decimal(getattr(prices, name, None), size)
        return None if value is None else value * mult


def _cache_rule(mode: str, provider: str) -> tuple[float, str] | None:
    """(multiplier of the standard cache prices, where documented) in a mode, or None."""
    if mode == "batch" and provider in _BATCH_CACHE_NO_STACK:
        return 1.0, _BATCH_CACHE_NO_STACK[provider]
    return MODE_FALLBACK.get((mode, provider))


def price_for_mode(info: Any, when: datetime, mode: str, provider: str) -> ModePrice:
    """The prices of a billing mode on a day.

    The catalog's own variant when it has one active that day (multiplier 1), a cache price it
    lacks taken from the standard one by the vendor's documented rule (`_cache_rule`); else the
    vendor's documented multiplier on the standard price (MODE_FALLBACK), cache prices by the
    same rule; else the standard price, with a note saying the mode's rate is unknown."""
    standard = info.get_prices(when)
    if mode == "standard":
        return ModePrice(standard, 1.0, "")
    ctx = {"processing": "batch"} if mode == "batch" else {"service_tier": mode}
    rule = _cache_rule(mode, provider)
    for variant in getattr(info, "price_variants", None) or ():
        if variant.when == ctx and (variant.constraint is None or variant.constraint.active(when)):
            label = "batch" if mode == "batch" else f"service_tier {mode}"
            note = f"{label} price variant"
            # get_prices merges the variant over the standard prices: a cache price the variant
            # does not set would come back as the standard one, whatever the vendor's rule
            own = getattr(variant, "prices", None)
            missing = [
                n
                for n in CACHE_FIELDS
                if getattr(own, n, None) is None and getattr(standard, n, None) is not None
            ]
            cache = {n: (standard, rule[0]) for n in missing} if rule else {}
            if cache:
                kinds = ", ".join(n.removesuffix("_mtok").replace("_", " ") for n in missing)
                note += f"; its {kinds} price: the standard one x {rule[0]:g} ({rule[1]})"
            return ModePrice(info.get_prices(when, ctx), 1.0, note, cache)
    fallback = MODE_FALLBACK.get((mode, provider))
    if fallback:
        note = f"no {mode} variant in genai-prices for this day; {fallback[1]}"
        cache = {}
        if rule and rule[0] != fallback[0]:
            cache = {n: (standard, rule[0]) for n in CACHE_FIELDS}
            note += f"; cache prices x {rule[0]:g} ({rule[1]})"
        return ModePrice(standard, fallback[0], note, cache)
    return ModePrice(standard, 1.0, f"no {mode} rate known for {provider or 'this provider'}: standard price")


def cost_sql(p: str, r: str = "") -> dict[str, str]:
    """Cost per token kind in USD, given request columns (prefix r) and price columns (prefix p).

    Cache writes: the catalog's cache-write price is the default (Anthropic: 5-minute) one; the
    1-hour part bills at the catalog's 1-hour price, or CACHE_WRITE_1H_INPUT_MULTIPLE x the input
    price where it has none.
    """
    one_hour_price = f"coalesce({p}p_cache_write_1h, {p}p_in * {CACHE_WRITE_1H_INPUT_MULTIPLE})"
    uncached = f"greatest({r}input_tokens - {r}cached_input_tokens - {r}cache_write_tokens, 0)"
    visible_out = f"greatest({r}output_tokens - {r}reasoning_tokens, 0)"
    one_hour = f"least(coalesce({r}cache_write_1h_tokens, 0), {r}cache_write_tokens)"
    return {
        "cost_input": f"{uncached} * {p}p_in / 1e6",
        "cost_cached": f"{r}cached_input_tokens * {p}p_cached / 1e6",
        "cost_cache_write": (
            f"(({r}cache_write_tokens - {one_hour}) * {p}p_cache_write + {one_hour} * {one_hour_price}) / 1e6"
        ),
        "cost_output": f"{visible_out} * {p}p_out / 1e6",
        "cost_reasoning": f"{r}reasoning_tokens * {p}p_reasoning / 1e6",
    }
