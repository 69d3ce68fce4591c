"""User configuration: one YAML file plus `--set` overrides.

Looked up in order: `--config PATH`, `$AIFINOPS_CONFIG`, `./aifinops.yaml`,
`~/.config/aifinops/config.yaml`. Every section is optional. A registered provider owns one
section (`aws`, `gcp`, `kubernetes`, `llm`, `billing`, or a plugin's): its declared keys are
checked here, its values by Provider.check_section in the pipeline's prepare.

`./aifinops.yaml` is picked up from whatever directory aifinops runs in, which may be a checkout
of someone else's repository. Such a *project config* is read like repository content: it may
tune rules, owners, prices, budgets and suppressions, but it may not decide where aifinops writes
or how its engines run (`UNTRUSTED_KEYS`), nor name files outside its own directory. Those need a
config the user chose: `--config`, `$AIFINOPS_CONFIG` or `~/.config/aifinops/config.yaml`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aifinops_cli.core.registry import PluginLoadError, load_providers
from aifinops_cli.core.yamlsrc import Located, SourceError, load_file, load_one

PROJECT_CONFIG = "aifinops.yaml"
MAX_LOOKBACK_DAYS = 63  # CloudWatch keeps 5-minute datapoints for 63 days; as --lookback-days
# settings a project config (./aifinops.yaml found in the working directory) may not make:
# where files are written, and what reaches the engines' own settings
UNTRUSTED_KEYS: tuple[tuple[str, ...], ...] = (
    ("history", "path"),
    ("llm", "database"),
    ("llm", "memory_limit"),
    ("billing", "memory_limit"),
    ("pricing", "cache_dir"),
    ("notify",),  # where alerts (with the estate's costs) are sent
)
# settings that name files to read: in a project config, only inside its own directory
PATH_KEYS: tuple[tuple[str, ...], ...] = (
    ("suppressions",),
    ("pricing", "catalogs"),
    ("llm", "tiers_file"),
    ("billing", "ai_services"),
    ("economics", "revenue"),
    ("economics", "stripe_invoices"),
    ("economics", "lago_invoices"),
    ("economics", "openmeter", "file"),
    ("economics", "outcomes", "file"),
)

DEFAULT_OWNER_TAG_KEYS = ["team", "owner", "cost-center", "costcenter", "project"]

# the top-level settings; each registered provider adds its own section (core/plugin.py Provider:
# llm, billing, aws, gcp, kubernetes for the built-ins), see provider_sections()
_TOP_KEYS: dict[str, type | tuple[type, ...]] = {
    "owner_tag_keys": list,
    "lookback_days": int,
    "rules": dict,
    "pricing": dict,
    "budgets": dict,
    "history": dict,
    "scan": dict,  # timeouts and retry budget: core/plugin.py Limits
    "suppressions": (str, list),
    "notify": dict,  # alerts: cli/notify.py, core/alerts.py
    "economics": dict,  # unit economics and pricing what-ifs: economics/settings.py
}


@dataclass
class Config:
    owner_tag_keys: list[str] = field(default_factory=lambda: list(DEFAULT_OWNER_TAG_KEYS))
    lookback_days: int = 14
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {enabled, severity, params}
    pricing: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # budgets, llm, billing, ...
    source: str = "defaults"
    project: bool = False  # found as ./aifinops.yaml, not chosen by the user (see module doc)
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)  # key path -> line

    def where(self, dotted: str) -> str:
        """`file:line` of a setting such as `llm.loop_window_calls` (its closest known parent)."""
        path: tuple[str | int, ...] = tuple(dotted.split("."))
        while path and path not in self.lines:
            path = path[:-1]
        line = self.lines.get(path) if path else None
        return f"{self.source}:{line}" if line else self.source

    def section(self, name: str) -> dict[str, Any]:
        return self.sections.get(name) or {}

    def owner_from_tags(self, tags: dict[str, str]) -> str:
        """The first configured owner tag present (keys compared case- and space-insensitively)."""
        normalised = {k.strip().lower(): v for k, v in tags.items()}
        for key in self.owner_tag_keys:
            value = normalised.get(key.strip().lower())
            if value:
                return str(value).strip()
        return ""


class ProjectConfig(type(Path())):  # type: ignore[misc]
    """The path of a config found in the working directory rather than chosen by the user."""


def provider_sections() -> dict[str, tuple[str, ...] | None]:
    """Each registered provider's config section and the keys it accepts (None: any key, its
    check_section decides). A provider that fails to load adds no section; the scan reports it."""
    try:
        return {cls.section_name(): cls.config_keys for cls in load_providers().values()}
    except PluginLoadError:
        return {}


def find_config_file(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("AIFINOPS_CONFIG")
    if env:
        return Path(env)
    if Path(PROJECT_CONFIG).is_file():
        return ProjectConfig(PROJECT_CONFIG)
    user = Path.home() / ".config" / "aifinops" / "config.yaml"
    return user if user.is_file() else None


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _check_project(doc: Located) -> None:
    """What a config found in the working directory may not do (see the module docstring)."""
    for path in UNTRUSTED_KEYS:
        if _get(doc.data, path) is not None:
            raise doc.error(
                path,
                "not allowed in ./aifinops.yaml found in the working directory "
                "(it may come from someone else's repository): set it in a config "
                "given by --config, $AIFINOPS_CONFIG or ~/.config/aifinops/config.yaml",
            )
    for path in PATH_KEYS:
        value = _get(doc.data, path)
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for item in items:
            p = Path(str(item)).expanduser()
            if p.is_absolute() or ".." in p.parts:
                raise doc.error(
                    path,
                    f"{item!r}: ./aifinops.yaml found in the working directory "
                    "may only name files below its own directory; use --config for "
                    "files elsewhere",
                )


def _lookback(value: Any, doc: Located | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LOOKBACK_DAYS:
        message = f"lookback_days must be a whole number of days from 1 to {MAX_LOOKBACK_DAYS}"
        if doc is None:
            raise SourceError("--set", None, "lookback_days", message)
        raise doc.error(("lookback_days",), message)
    return value


def _check(doc: Located) -> None:
    data = doc.data
    if data is None:
        return
    if not isinstance(data, dict):
        raise doc.error((), "the config file must be a mapping")
    sections = provider_sections()
    for key, value in data.items():
        if key not in _TOP_KEYS and key not in sections:
            known = ", ".join(sorted({*_TOP_KEYS, *sections}))
            raise doc.error((key,), f"unknown setting (known: {known})")
        expected = _TOP_KEYS.get(key, dict)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
            names = " or ".join(
                t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,))
            )
            raise doc.error((key,), f"expected {names}, got {type(value).__name__}")
    for key, keys in sections.items():  # a provider that declares its keys: a typo is an error
        if keys is None:
            continue
        for sub in data.get(key) or {}:
            if sub not in keys:
                raise doc.error((key, sub), f"unknown setting (known: {', '.join(keys)})")
    if "lookback_days" in data:
        _lookback(data["lookback_days"], doc)
    if any(not isinstance(k, str | int) for k in data.get("owner_tag_keys") or []):
        raise doc.error(("owner_tag_keys",), "expected a list of tag keys")
    for rule_id, spec in (data.get("rules") or {}).items():
        if not isinstance(spec, dict):
            raise doc.error(("rules", rule_id), "expected a mapping (enabled, severity, params)")
        for k in spec:
            if k not in ("enabled", "severity", "params"):
                raise doc.error(("rules", rule_id, k), "unknown key (enabled, severity, params)")
        if "enabled" in spec and not isinstance(spec["enabled"], bool):
            raise doc.error(("rules", rule_id, "enabled"), "expected true or false")
        if not isinstance(spec.get("params") or {}, dict):
            raise doc.error(("rules", rule_id, "params"), "expected a mapping of parameter: value")


HISTORY_KEYS = ("path", "record", "keep_runs")  # cli/unattended.py, core/history.py
NOTIFY_KEYS = ("urls", "min_severity", "min_usd")  # cli/notify.py
SEVERITIES = ("info", "low", "medium", "high", "critical")  # models.Severity, spelled for messages


def _check_notify(doc: Located, notify: dict[str, Any]) -> None:
    for key in notify:
        if key not in NOTIFY_KEYS:
            raise doc.error(("notify", key), f"unknown setting (known: {', '.join(NOTIFY_KEYS)})")
    urls = notify.get("urls")
    if urls is not None and not (
        isinstance(urls, str) or (isinstance(urls, list) and all(isinstance(u, str) for u in urls))
    ):
        raise doc.error(("notify", "urls"), "expected a notification URL or a list of them")
    severity = notify.get("min_severity")
    if severity is not None and str(severity).lower() not in SEVERITIES:
        raise doc.error(("notify", "min_severity"), f"expected one of {', '.join(SEVERITIES)}")
    floor = notify.get("min_usd")
    if floor is not None and (isinstance(floor, bool) or not isinstance(floor, int | float) or floor < 0):
        raise doc.error(("notify", "min_usd"), "expected a number of USD per month (0 or more)")


# LLM budgets, USD per month by dimension (scanners/llm/analysis.py budgets), under
# `llm.budgets` or the older top-level `budgets.llm`
BUDGET_DIMENSIONS = ("team", "app", "customer")


def _check_budgets(doc: Located, path: tuple[str, ...], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise doc.error(
            path, f"expected a mapping of {', '.join(BUDGET_DIMENSIONS)} to {{name: USD per month}}"
        )
    for dim, limits in value.items():
        if dim not in BUDGET_DIMENSIONS:
            raise doc.error((*path, dim), f"unknown budget dimension (known: {', '.join(BUDGET_DIMENSIONS)})")
        if not isinstance(limits, dict):
            raise doc.error((*path, dim), "expected a mapping of name: USD per month")
        for name, usd in limits.items():
            if isinstance(usd, bool) or not isinstance(usd, int | float) or not 0 <= usd < float("inf"):
                raise doc.error(
                    (*path, dim, name), f"a budget is a number of USD per month (0 or more), got {usd!r}"
                )


def _check_sections(doc: Located) -> None:
    """Sections no scanner owns, checked with the file (their readers only see values)."""
    data = doc.data
    history = data.get("history") or {}
    for key in history:
        if key not in HISTORY_KEYS:
            raise doc.error(("history", key), f"unknown setting (known: {', '.join(HISTORY_KEYS)})")
    if "record" in history and not isinstance(history["record"], bool):
        raise doc.error(("history", "record"), "history.record must be true or false")
    keep = history.get("keep_runs", 2)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 2:
        raise doc.error(("history", "keep_runs"), "history.keep_runs must be a whole number of at least 2")
    _check_notify(doc, data.get("notify") or {})
    budgets = data.get("budgets") or {}
    for key in budgets:
        if key != "llm":
            raise doc.error(("budgets", key), "unknown setting (known: llm; or set llm.budgets)")
    _check_budgets(doc, ("budgets", "llm"), budgets.get("llm"))
    llm = data.get("llm")
    if isinstance(llm, dict):
        _check_budgets(doc, ("llm", "budgets"), llm.get("budgets"))


def load_config(path: Path | None, sets: list[str] | None = None) -> Config:
    config = Config()
    if path is not None:
        docs = load_file(path, "config file")
        doc = docs[0] if docs else Located(None, str(path))
        _check(doc)
        if doc.data is not None:
            _check_sections(doc)
        if isinstance(path, ProjectConfig):
            _check_project(doc)
            config.project = True
        data = doc.data or {}
        config.source = str(path)
        config.lines = doc.lines
        config.owner_tag_keys = [str(k) for k in data.get("owner_tag_keys", config.owner_tag_keys)]
        config.lookback_days = int(data.get("lookback_days", config.lookback_days))
        config.rules = {str(k): dict(v) for k, v in (data.get("rules") or {}).items()}
        config.pricing = dict(data.get("pricing") or {})
        config.sections = {
            k: v for k, v in data.items() if k not in ("owner_tag_keys", "lookback_days", "rules", "pricing")
        }
    for item in sets or []:
        apply_set(config, item)
    return config


def apply_set(config: Config, item: str) -> None:
    """`--set RULE_ID.PARAM=VALUE` (a rule threshold) or `--set lookback_days=7`."""
    if "=" not in item:
        raise SourceError("--set", None, item, "expected KEY=VALUE, e.g. aws-ec2-idle-gpu.cpu_max_pct=5")
    key, raw = item.split("=", 1)
    try:
        value = load_one(raw, "--set", lines=False).data if raw.strip() else ""
    except SourceError as exc:
        raise SourceError("--set", None, item, exc.message) from None
    if isinstance(value, dict | list):
        raise SourceError("--set", None, item, "expected one value (a number, true/false or text)")
    key = key.strip()
    if "." in key:
        rule_id, param = key.rsplit(".", 1)
        config.rules.setdefault(rule_id, {}).setdefault("params", {})[param] = value
        config.rules[rule_id].setdefault("_set", []).append(param)
    elif key == "lookback_days":
        config.lookback_days = _lookback(value, None)
    elif key == "owner_tag_keys":
        config.owner_tag_keys = [s.strip() for s in str(value).split(",") if s.strip()]
    else:
        raise SourceError(
            "--set", None, key, "unknown key: use RULE_ID.PARAM=VALUE, lookback_days or owner_tag_keys"
        )
