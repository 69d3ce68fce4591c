"""LLM request-log scanner: premium-model misuse, runaway agents, retries, duplicates, budgets.

Config (`llm:` section, all optional):

    llm:
      attribute_keys: {team: [squad], app: [service], customer: [tenant]}  # searched first
      key_aliases: {prod-search-key: {team: search, app: search-api}}     # API-key alias -> owner
      prices:                       # negotiated or self-hosted rates, USD per 1M tokens
        - {model: "llama-3.1-70b*", provider: vllm, input_per_1m: 0.4, output_per_1m: 0.4,
           note: "self-hosted on 2x A100"}
      discount_pct: 0               # enterprise discount on catalog prices
      tiers_file: my-tiers.yaml     # replaces pricing/data/llm_tiers.yaml
      simple_request: {max_input_tokens: 1000, max_output_tokens: 300, max_messages: 2}
      loop_window_calls: 6          # sliding window for repeated call signatures
      retry_gap_seconds: 30         # attempts closer than this are one retry burst
      budgets: {team: {search: 500}, app: {chat: 200}, customer: {acme: 50}}  # USD per month
      memory_limit: 600MB           # DuckDB's; beyond it, tables spill to a temporary directory
      azure_deployments: {prod-gpt4o: gpt-4o}  # Azure deployment names -> the model they serve
      bedrock_batch_models:         # Bedrock batch jobs whose output lines name no model (Converse, Titan)
        "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123": amazon.nova-lite-v1:0
        "s3://my-bucket/batch-out/*": anthropic.claude-3-5-haiku-20241022-v1:0   # glob on the file path
      database: memory              # or file: a DuckDB file in the temporary directory

Spend anomalies: when the logs span at least the `llm-spend-anomaly` rule's `min_history` +
`window` hours, the hourly spend by team, app and model goes through the forecasting package's
detector (rules/anomaly.yaml judges the `llm.spend_anomaly` observations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import UNIT_ECONOMICS_FIELDS, UNIT_ECONOMICS_KIND, CoverageEntry, ScanResult
from aifinops_cli.core.plugin import Scanner, ScannerError, check_keys
from aifinops_cli.core.rules import load_rules
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.forecasting.anomaly import OBSERVATION_FIELDS as ANOMALY_FIELDS
from aifinops_cli.scanners.llm import analysis, report
from aifinops_cli.scanners.llm.engine import Engine, Settings, check_config
from aifinops_cli.scanners.llm.formats import DEFAULT_ATTRIBUTE_KEYS
from aifinops_cli.scanners.llm.inputs import FORMATS, resolve_inputs
from aifinops_cli.scanners.llm.pricing import Override, PriceBook, genai_prices_version, load_tiers
from aifinops_cli.scanners.llm.provider import MAPPINGS, NUMBERS, LlmProvider, LlmSettings
from aifinops_cli.scanners.llm.usage import usage_rollup

if TYPE_CHECKING:
    from aifinops_cli.core.config import Config

MAX_BAD_EXAMPLES = 5


def price_book(config: dict[str, Any], settings: Settings) -> PriceBook:
    """The `llm:` section's price overrides and discount over genai-prices (scan and forecast
    price requests the same way); without genai-prices, overrides alone."""
    overrides = [Override.parse(item) for item in config.get("prices") or []]
    try:
        version = genai_prices_version()
    except ScannerError:
        if not overrides:
            raise
        version = "missing"
    return PriceBook(
        overrides,
        float(config.get("discount_pct", 0.0)),
        version,
        azure_deployments=settings.azure_deployments,
    )


def settings_from(config: dict[str, Any], flags: LlmSettings) -> Settings:
    """The engine's settings: the `llm:` section and the provider's flags (LlmSettings)."""
    check_config(config, flags.log_format)
    keys = {k: list(v) for k, v in DEFAULT_ATTRIBUTE_KEYS.items()}
    for name, extra in (config.get("attribute_keys") or {}).items():
        if name not in keys:
            raise ScannerError(
                f"config llm.attribute_keys: unknown attribute {name!r} (known: {', '.join(keys)})"
            )
        extra = [extra] if isinstance(extra, str) else list(extra)
        keys[name] = [str(k) for k in extra] + [k for k in keys[name] if k not in extra]
    simple = config.get("simple_request") or {}
    return Settings(
        attribute_keys=keys,
        show_prompts=flags.show_prompts,
        forced_format=flags.log_format,
        simple_max_input_tokens=int(simple.get("max_input_tokens", 1000)),
        simple_max_output_tokens=int(simple.get("max_output_tokens", 300)),
        simple_max_messages=int(simple.get("max_messages", 2)),
        key_aliases={
            str(k): {kk: str(vv) for kk, vv in (v or {}).items()}
            for k, v in (config.get("key_aliases") or {}).items()
        },
        memory_limit=str(config.get("memory_limit", "600MB")),
        database=_database(config.get("database", "memory")),
        azure_deployments={str(k): str(v) for k, v in (config.get("azure_deployments") or {}).items()},
        bedrock_batch_models={str(k): str(v) for k, v in (config.get("bedrock_batch_models") or {}).items()},
    )


def claim_rules(cfg: Config, llm: dict[str, Any]) -> analysis.ClaimRules:
    """The thresholds that decide which retry bursts, loops, duplicate groups and premium groups
    claim their requests: the rules' params (rules/llm.yaml, config `rules:`, --set), so a
    request is only withheld from a later finding by a group its own rule can report."""
    try:
        rules = {r.id: r for r in load_rules(config=cfg)}
    except SourceError as exc:
        raise ScannerError(f"rules: {exc}") from exc

    never = 2**62  # a disabled rule reports nothing, so its groups claim nothing

    def enabled(rule_id: str) -> bool:
        rule = rules.get(rule_id)
        return rule is None or rule.enabled

    def param(rule_id: str, name: str, default: float) -> float:
        rule = rules.get(rule_id)
        if not enabled(rule_id):
            return never
        value = rule.params.get(name, default) if rule is not None else default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ScannerError(f"rule {rule_id}: parameter {name}={value!r} is not a number") from None

    d = analysis.ClaimRules()
    return analysis.ClaimRules(
        retry_gap_seconds=float(llm.get("retry_gap_seconds", d.retry_gap_seconds)),
        retry_max_attempts=int(param("llm-retry-storm", "max_attempts", d.retry_max_attempts)),
        retry_min_errors=int(param("llm-retry-storm", "min_errors", d.retry_min_errors)),  # never if disabled
        loop_window_calls=int(llm.get("loop_window_calls", d.loop_window_calls)),
        loop_min_repeats=int(param("llm-agent-loop", "min_repeats", d.loop_min_repeats)),
        loop_min_monthly_usd=param("llm-agent-loop", "min_monthly_usd", d.loop_min_monthly_usd),
        duplicate_min_requests=int(param("llm-duplicate-prompt", "min_requests", d.duplicate_min_requests)),
        duplicate_max_cached_share=param(
            "llm-duplicate-prompt", "max_cached_share", d.duplicate_max_cached_share
        ),
        duplicate_min_monthly_savings=param(
            "llm-duplicate-prompt", "min_monthly_savings", d.duplicate_min_monthly_savings
        ),
        premium_min_simple_requests=int(
            param("llm-premium-simple", "min_simple_requests", d.premium_min_simple_requests)
        ),
        premium_min_simple_share=param("llm-premium-simple", "min_simple_share", d.premium_min_simple_share),
        premium_min_monthly_savings=param(
            "llm-premium-simple", "min_monthly_savings", d.premium_min_monthly_savings
        ),
    )


def _database(value: Any) -> str:
    if str(value) not in ("memory", "file"):
        raise ScannerError(f"config llm.database: {value!r} is not 'memory' or 'file'")
    return str(value)


def check_llm_config(config: dict[str, Any], flags: LlmSettings) -> None:
    """The `llm:` section, checked whole before scanning (what `scan()` reads, read the same way)."""
    if flags.log_format and flags.log_format not in FORMATS:
        raise ScannerError(
            f"unknown --llm-log-format {flags.log_format!r}; choose from " + ", ".join(FORMATS)
        )
    if not isinstance(config, dict):
        raise ScannerError("config llm: expected a mapping")
    check_keys("llm", config, LlmProvider.config_keys)
    for key in MAPPINGS:
        if not isinstance(config.get(key) or {}, dict):
            raise ScannerError(f"config llm.{key}: expected a mapping")
    for key, kind in NUMBERS.items():
        value = config.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and not isinstance(value, int))
        ):
            raise ScannerError(f"config llm.{key}: expected a {'whole ' if kind is int else ''}number")
    for key, value in (config.get("simple_request") or {}).items():
        if key not in ("max_input_tokens", "max_output_tokens", "max_messages"):
            raise ScannerError(
                f"config llm.simple_request.{key}: unknown setting (max_input_tokens, "
                "max_output_tokens, max_messages)"
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScannerError(f"config llm.simple_request.{key}: expected a whole number")
    if not isinstance(config.get("prices") or [], list):
        raise ScannerError("config llm.prices: expected a list of {model, input_per_1m, ...}")
    try:
        settings_from(config, flags)
        for item in config.get("prices") or []:
            if not isinstance(item, dict):
                raise ScannerError(f"config llm.prices entry {item!r}: expected a mapping")
            Override.parse(item)
        load_tiers(config.get("tiers_file"))
    except ScannerError:
        raise
    except OSError as exc:
        raise ScannerError(
            f"config llm.tiers_file {config.get('tiers_file')}: cannot read: {exc.strerror or exc}"
        ) from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise ScannerError(f"config llm: {type(exc).__name__}: {exc}") from None


class LlmLogScanner(Scanner):
    name = "llm"
    provider = "llm"
    description = (
        "LLM request logs (OpenAI, Azure, Anthropic, Gemini/Vertex, Bedrock, OpenRouter and "
        "OpenAI-compatible APIs, LiteLLM, Langfuse, Helicone, OTel GenAI, CSV): spend, "
        "premium-model misuse, loops, retries, duplicate prompts, budgets"
    )
    kinds: ClassVar[tuple[str, ...]] = (
        "llm.premium_simple",
        "llm.session",
        "llm.retry_group",
        "llm.duplicate_prompt",
        "llm.budget",
        "llm.unowned_spend",
        "llm.spend_anomaly",
        UNIT_ECONOMICS_KIND,  # built from this scanner's usage rollup by economics/section.py
    )
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        "llm.premium_simple": (
            "app",
            "avg_input_tokens",
            "avg_output_tokens",
            "cheaper_cost_monthly_usd",
            "cheaper_model",
            "model",
            "monthly_factor",
            "observed_cheaper_cost_usd",
            "observed_days",
            "observed_simple_cost_usd",
            "priced_as",
            "provider",
            "requests",
            "savings_monthly_usd",
            "simple_classify_share",
            "simple_cost_monthly_usd",
            "simple_requests",
            "simple_share",
            "simple_text_known_share",
            "team",
        ),
        "llm.session": (
            "app",
            "app_median_session_cost_usd",
            "app_sessions",
            "burn_ratio",
            "calls",
            "duration_minutes",
            "excess_cost_monthly_usd",
            "max_repeats_in_window",
            "models",
            "monthly_factor",
            "observed_claimed_cost_usd",
            "observed_cost_usd",
            "observed_repeated_cost_usd",
            "repeated_calls",
            "repeated_cost_monthly_usd",
            "repetition_evidence",
            "session_cost_monthly_usd",
            "team",
            "tokens",
            "window_calls",
        ),
        "llm.retry_group": (
            "app",
            "attempts",
            "caller",
            "error_share",
            "errors",
            "first_attempt",
            "model",
            "monthly_factor",
            "observed_cost_usd",
            "observed_wasted_usd",
            "prompt_hash",
            "span_seconds",
            "team",
            "wasted_monthly_usd",
        ),
        "llm.duplicate_prompt": (
            "app",
            "avg_input_tokens",
            "cached_share",
            "model",
            "monthly_factor",
            "observed_prompt_cache_savings_usd",
            "observed_repeat_cost_usd",
            "prompt_cache_savings_monthly_usd",
            "prompt_hash",
            "prompt_preview",
            "provider",
            "repeats",
            "requests",
            "response_cache_savings_monthly_usd",
            "team",
        ),
        "llm.budget": (
            "as_of",
            "budget_usd",
            "dimension",
            "month",
            "month_to_date_usd",
            "monthly_factor",
            "name",
            "observed_days",
            "observed_usd",
            "overrun_usd",
            "period",
            "projected_pct",
            "projected_usd",
            "spent_pct",
        ),
        "llm.unowned_spend": (
            "monthly_factor",
            "observed_unowned_usd",
            "top_unowned",
            "total_monthly_usd",
            "unowned_monthly_usd",
            "unowned_requests",
            "unowned_share",
        ),
        "llm.spend_anomaly": ANOMALY_FIELDS,
        UNIT_ECONOMICS_KIND: UNIT_ECONOMICS_FIELDS,
    }

    def scan(self) -> ScanResult:
        ctx = self.context
        config = ctx.config.section("llm")
        flags: LlmSettings = ctx.settings("llm")
        if not flags.logs:
            raise ScannerError("no LLM logs given: pass --llm-logs PATH (files, dirs, globs, .gz, s3://)")
        settings = settings_from(config, flags)
        book = price_book(config, settings)
        tiers = load_tiers(config.get("tiers_file"))
        engine = Engine(settings)
        try:
            return self._scan(engine, book, tiers, config)
        finally:
            engine.close()

    def _scan(self, engine: Engine, book: PriceBook, tiers: Any, config: dict[str, Any]) -> ScanResult:
        ctx = self.context
        result = ScanResult(self.name)
        files, problems = resolve_inputs(ctx.settings("llm").logs, engine.workdir, ctx.options.limits)
        for p in problems:
            result.coverage.append(CoverageEntry(self.name, p.scope, "failed", p.message, errors=1))
        file_info = []
        for file in files:
            ctx.progress(f"llm: reading {file.display}")
            out = engine.load(file)
            file_info.append(
                {
                    "file": file.display,
                    "format": out.fmt,
                    "records": out.rows,
                    "malformed": out.bad,
                    "error": out.error,
                    "structure_records": out.structure,
                }
            )
            if out.error:
                result.coverage.append(CoverageEntry(self.name, file.display, "failed", out.error, errors=1))
            elif out.bad:
                result.coverage.append(
                    CoverageEntry(
                        self.name,
                        file.display,
                        "partial",
                        f"{out.fmt}: {out.bad} of {out.rows} records unparseable (first lines listed in the "
                        "report; --strict makes this fatal)",
                        resources=out.rows - out.bad,
                        errors=out.bad,
                    )
                )
            else:
                result.coverage.append(
                    CoverageEntry(self.name, file.display, "ok", out.fmt or "", resources=out.rows)
                )
        malformed = engine.con.execute("SELECT count(*) FROM raw WHERE bad_reason IS NOT NULL").fetchone()[0]
        examples = engine.bad_examples(MAX_BAD_EXAMPLES)
        if malformed and ctx.options.strict:
            first = "; ".join(f"{f}:{n}: {why}" for f, n, why in examples)
            raise ScannerError(f"{malformed} malformed LLM log record(s) with --strict: {first}")
        if not files or all(i["error"] for i in file_info):
            if not files:
                raise ScannerError(
                    "no readable LLM log files: " + "; ".join(f"{p.scope}: {p.message}" for p in problems)
                )
            return result

        ctx.progress("llm: pricing")
        engine.price(book, tiers)
        con = engine.con
        w = analysis.window(con)
        unpriced_rows = analysis._rows(
            con,
            """
SELECT coalesce(provider, '') AS provider, model, count(*) AS requests, sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens FROM req WHERE cost IS NULL GROUP BY ALL ORDER BY requests DESC""",
        )
        for u in unpriced_rows:
            res = book.resolved.get((u["provider"], u["model"]))
            u["reason"] = res.reason if res else "no price"
            result.unpriced.append(
                {
                    "scanner": self.name,
                    "resource_id": f"{u['provider']}/{u['model']}",
                    "sku": f"llm:{u['provider']}:{u['model']}",
                    "reason": f"{u['requests']} requests; {u['reason']}",
                }
            )

        ctx.progress("llm: analysing")
        obs = result.observations
        show_prompts = ctx.settings("llm").show_prompts
        waste, groups = analysis.wasted(con, w, claim_rules(ctx.config, config), show_prompts)
        obs += waste
        budget_cfg = dict(config.get("budgets") or {}) or dict(ctx.config.section("budgets").get("llm") or {})
        obs += analysis.budgets(con, w, budget_cfg)
        totals = analysis.totals(con)
        obs += analysis.unowned(con, w, totals)
        obs += self._anomalies(con, result)
        result.analysis["llm"] = report.build(
            con,
            w,
            totals,
            malformed,
            examples,
            unpriced_rows,
            file_info,
            show_prompts,
            groups,
            analysis.claims(con, w),
        )
        if ctx.config.section("economics"):  # the unit-economics section's input (economics/)
            ctx.progress("llm: usage for unit economics")
            result.usage = usage_rollup(
                con,
                w.days,
                w.factor,
                w.start.isoformat() if w.start else "",
                w.end.isoformat() if w.end else "",
                ", ".join(ctx.settings("llm").logs),
                f"genai-prices {book.version}" if book.version != "missing" else "config llm.prices",
            )
        return result

    def _anomalies(self, con: Any, result: ScanResult) -> list[Any]:
        """Hours where a team's, app's or model's spend is above the forecast model's band."""
        from aifinops_cli.forecasting import anomaly
        from aifinops_cli.forecasting.model import ForecastUnavailable
        from aifinops_cli.scanners.llm.series import spend_rows

        params = anomaly.scan_settings(self.context.config, "llm")
        if params is None:
            return []
        span = con.execute(
            "SELECT date_diff('hour', date_trunc('hour', min(ts)), "
            "date_trunc('hour', max(ts))) + 1 FROM req WHERE cost IS NOT NULL"
        ).fetchone()[0]
        if not span or span < params["min_history"] + params["window"]:
            return []  # too short a history to say what is normal
        note = anomaly.unavailable_note(self.name)
        if note is not None:
            result.coverage.append(note)
            return []
        self.context.progress("llm: spend anomalies")
        rows, _ = spend_rows(con, "hour")
        try:
            found = anomaly.llm_anomalies(rows, params)
        except ForecastUnavailable as exc:
            result.coverage.append(
                CoverageEntry(self.name, "spend anomalies", "skipped", f"not checked: {exc}")
            )
            return []
        source = ", ".join(self.context.settings("llm").logs)
        return [anomaly.observation(a, "llm", source) for a in found]
