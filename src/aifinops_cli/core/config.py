"""User configuration: one YAML file plus `--set` overrides.

Looked up in order: `--config PATH`, `$AIFINOPS_CONFIG`, `./aifinops.yaml`,
`~/.config/aifinops/config.yaml`. Every section is optional. Sections owned by one scanner
(`llm`, `billing`, `gcp`, `kubernetes`, ...) are validated by that scanner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aifinops_cli.core.yamlsrc import Located, SourceError, load_documents

DEFAULT_OWNER_TAG_KEYS = ["team", "owner", "cost-center", "costcenter", "project"]

_TOP_KEYS = {
    "owner_tag_keys": list,
    "lookback_days": int,
    "rules": dict,
    "pricing": dict,
    "budgets": dict,
    "llm": dict,
    "billing": dict,
    "aws": dict,
    "gcp": dict,
    "kubernetes": dict,
    "history": dict,
    "scan": dict,  # timeouts and retry budget: scanners/interface.py Limits
    "suppressions": (str, list),
}


@dataclass
class Config:
    owner_tag_keys: list[str] = field(default_factory=lambda: list(DEFAULT_OWNER_TAG_KEYS))
    lookback_days: int = 14
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {enabled, severity, params}
    pricing: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # budgets, llm, billing, ...
    source: str = "defaults"

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


def find_config_file(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("AIFINOPS_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("aifinops.yaml"), Path.home() / ".config" / "aifinops" / "config.yaml"):
        if candidate.is_file():
            return candidate
    return None


def _check(doc: Located) -> None:
    data = doc.data
    if data is None:
        return
    if not isinstance(data, dict):
        raise doc.error((), "the config file must be a mapping")
    for key, value in data.items():
        if key not in _TOP_KEYS:
            known = ", ".join(sorted(_TOP_KEYS))
            raise doc.error((key,), f"unknown setting (known: {known})")
        if not isinstance(value, _TOP_KEYS[key]):
            raise doc.error((key,), f"expected {_TOP_KEYS[key]}, got {type(value).__name__}")
    for rule_id, spec in (data.get("rules") or {}).items():
        if not isinstance(spec, dict):
            raise doc.error(("rules", rule_id), "expected a mapping (enabled, severity, params)")
        for k in spec:
            if k not in ("enabled", "severity", "params"):
                raise doc.error(("rules", rule_id, k), "unknown key (enabled, severity, params)")


def load_config(path: Path | None, sets: list[str] | None = None) -> Config:
    config = Config()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceError(str(path), None, "", f"cannot read config file: {exc.strerror}") from None
        docs = load_documents(text, str(path))
        doc = docs[0] if docs else Located(None, str(path))
        _check(doc)
        data = doc.data or {}
        config.source = str(path)
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
    value = yaml.safe_load(raw) if raw.strip() else ""
    key = key.strip()
    if "." in key:
        rule_id, param = key.rsplit(".", 1)
        config.rules.setdefault(rule_id, {}).setdefault("params", {})[param] = value
        config.rules[rule_id].setdefault("_set", []).append(param)
    elif key == "lookback_days":
        if not isinstance(value, int) or value < 1:
            raise SourceError("--set", None, key, "lookback_days must be a whole number of days >= 1")
        config.lookback_days = value
    elif key == "owner_tag_keys":
        config.owner_tag_keys = [s.strip() for s in str(value).split(",") if s.strip()]
    else:
        raise SourceError(
            "--set", None, key, "unknown key: use RULE_ID.PARAM=VALUE, lookback_days or owner_tag_keys"
        )
