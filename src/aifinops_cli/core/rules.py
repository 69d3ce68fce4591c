"""YAML rules: schema, validation, parameters and evaluation.

A rules file holds `rules: [...]`. Each rule names the observation kinds it applies to, a
condition tree over metrics, attributes and tags, which field is the waste (`savings`), and a
recommendation. Thresholds are `params` referenced as `${name}` so users change them in config or
with `--set RULE.PARAM=VALUE` without copying the rule. Validation happens in stages, before any
scan: YAML syntax, JSON Schema, then meaning (params exist, regexes compile); every error names
file, line and field.
"""

from __future__ import annotations

import difflib
import functools
import json
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Confidence, Finding, Observation, Severity
from aifinops_cli.core.yamlsrc import Located, SourceError, load_documents, read_text, schema_error

CATEGORIES = (
    "zombie-infrastructure",
    "idle-cluster",
    "orphaned-storage",
    "data-egress",
    "model-misuse",
    "agent-overhead",
    "duplicate-spend",
    "budget",
    "attribution",
    "duplicate-capability",
    "anomaly",
    "rightsizing",
    "unit-economics",
)

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}
_LEAF_OPS = (*_COMPARE, "in", "not_in", "matches", "exists")
_PARAM = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

_VALUE = {"type": ["number", "string", "boolean"]}
_CONDITION: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "required": ["all"],
            "additionalProperties": False,
            "properties": {"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/cond"}}},
        },
        {
            "type": "object",
            "required": ["any"],
            "additionalProperties": False,
            "properties": {"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/cond"}}},
        },
        {
            "type": "object",
            "required": ["not"],
            "additionalProperties": False,
            "properties": {"not": {"$ref": "#/$defs/cond"}},
        },
        {
            "type": "object",
            "required": ["metric"],
            "additionalProperties": False,
            "minProperties": 2,
            "properties": {
                "metric": {"type": "string"},
                "missing": {"type": "boolean"},
                **{op: _VALUE for op in _COMPARE},
                "in": {"type": "array"},
                "not_in": {"type": "array"},
                "matches": {"type": "string"},
                "exists": {"type": "boolean"},
            },
        },
        {
            "type": "object",
            "required": ["tag"],
            "additionalProperties": False,
            "minProperties": 2,
            "properties": {
                "tag": {"type": "string"},
                "exists": {"type": "boolean"},
                "eq": {"type": "string"},
                "ne": {"type": "string"},
                "in": {"type": "array", "items": {"type": "string"}},
                "matches": {"type": "string"},
            },
        },
    ]
}
_CASES = lambda enum: {  # noqa: E731 - a schema snippet, not logic
    "type": "array",
    "items": {
        "type": "object",
        "required": ["when", "level"],
        "additionalProperties": False,
        "properties": {"when": {"$ref": "#/$defs/cond"}, "level": {"enum": [e.value for e in enum]}},
    },
}
_LEVELS = lambda enum: {  # noqa: E731 - a schema snippet, not logic
    "oneOf": [
        {"enum": [e.value for e in enum]},
        {
            "type": "object",
            "required": ["default"],
            "additionalProperties": False,
            "properties": {
                "default": {"enum": [e.value for e in enum]},
                "cases": _CASES(enum),
                # the level when the resource's price is unknown and no case could be decided:
                # judged on what it is (GPU count, size) instead of dollars
                "unpriced": {
                    "oneOf": [
                        {"enum": [e.value for e in enum]},
                        {
                            "type": "object",
                            "required": ["default"],
                            "additionalProperties": False,
                            "properties": {
                                "default": {"enum": [e.value for e in enum]},
                                "cases": _CASES(enum),
                            },
                        },
                    ]
                },
            },
        },
    ]
}
RULE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aifinops rule",
    "type": "object",
    "required": ["id", "title", "category", "resource", "severity", "when", "savings", "recommendation"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "category": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "resource": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "severity": _LEVELS(Severity),
        "confidence": _LEVELS(Confidence),
        "params": {"type": "object", "additionalProperties": _VALUE},
        "when": {"$ref": "#/$defs/cond"},
        "savings": {
            "type": "object",
            "required": ["metric"],
            "additionalProperties": False,
            "properties": {"metric": {"type": "string"}, "factor": _VALUE},
        },
        "cost": {
            "type": "object",
            "required": ["metric"],
            "additionalProperties": False,
            "properties": {"metric": {"type": "string"}},
        },
        "evidence": {"type": "array", "items": {"type": "string"}},
        "recommendation": {"type": "string", "minLength": 1},
        "references": {"type": "array", "items": {"type": "string"}},
    },
    "$defs": {"cond": _CONDITION},
}
FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rules"],
    "additionalProperties": False,
    "properties": {"rules": {"type": "array", "items": {"type": "object"}}},
}


@dataclass(frozen=True)
class Ref:
    """A name a rule uses (`kind`: "resource" or "field"), and where it is written."""

    kind: str
    name: str
    file: str
    line: int | None
    where: str

    def error(self, message: str) -> SourceError:
        return SourceError(self.file, self.line, self.where, message)


@dataclass
class Rule:
    id: str
    title: str
    category: str
    resource: list[str]
    severity: Any
    confidence: Any
    params: dict[str, Any]
    when: dict[str, Any]
    savings: dict[str, Any]
    recommendation: str
    description: str = ""
    cost_metric: str = "monthly_cost_usd"
    evidence_fields: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    origin: str = ""
    enabled: bool = True
    # the resource kinds and fields it names, each where it was written (check_vocabulary)
    refs: list[Ref] = field(default_factory=list)

    # --- evaluation -------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            m = _PARAM.match(value)
            if m:
                return self.params[m.group(1)]
        return value

    def matches(self, obs: Observation, cond: dict[str, Any] | None = None) -> bool:
        """Whether the rule's condition holds; an undecidable one (a dollar threshold on a
        resource whose price is unknown) holds, so a dollar threshold never drops it."""
        return self.truth(obs, self.when if cond is None else cond) is not False

    def truth(self, obs: Observation, cond: dict[str, Any]) -> bool | None:
        """True, False, or None when it depends on a price nobody knows (three-valued logic)."""
        if "all" in cond:
            parts = [self.truth(obs, c) for c in cond["all"]]
            return False if False in parts else None if None in parts else True
        if "any" in cond:
            parts = [self.truth(obs, c) for c in cond["any"]]
            return True if True in parts else None if None in parts else False
        if "not" in cond:
            inner = self.truth(obs, cond["not"])
            return None if inner is None else not inner
        if "tag" in cond:
            return self._tag(obs, cond)
        return self._metric(obs, cond)

    def _tag(self, obs: Observation, cond: dict[str, Any]) -> bool:
        wanted = cond["tag"].strip().lower()
        value = next((v for k, v in obs.tags.items() if k.strip().lower() == wanted), None)
        if "exists" in cond:
            return bool((value is not None and value != "") == cond["exists"])
        if value is None:
            return False
        return _leaf(self, value, cond)

    def _metric(self, obs: Observation, cond: dict[str, Any]) -> bool | None:
        value = obs.lookup(cond["metric"])
        if "exists" in cond:
            return bool((value is not None) == cond["exists"])
        if obs.unpriced and is_money(cond["metric"]):
            return _lower_bound(self, value, cond)
        if value is None:
            return bool(cond.get("missing", False))
        return _leaf(self, value, cond)

    def level(self, spec: Any, obs: Observation, enum: type) -> Any:
        """The first case that surely holds; for an unpriced resource with no such case, its
        `unpriced` level (by what it is) rather than the dollar default."""
        if isinstance(spec, str):
            return enum(spec)
        for case in spec.get("cases", []):
            if self.truth(obs, case["when"]) is True:
                return enum(case["level"])
        if obs.unpriced and "unpriced" in spec:
            return self.level(spec["unpriced"], obs, enum)
        return enum(spec["default"])

    def evaluate(self, obs: Observation) -> Finding | None:
        if not self.matches(obs):
            return None
        factor = float(self.resolve(self.savings.get("factor", 1.0)))
        waste = _number(obs.lookup(self.savings["metric"]))
        cost = _number(obs.lookup(self.cost_metric))
        evidence: dict[str, Any] = {name: obs.lookup(name) for name in self.evidence_fields}
        evidence = {k: v for k, v in evidence.items() if v is not None}
        if obs.evidence:
            evidence["notes"] = list(obs.evidence)
        evidence["thresholds"] = dict(self.params)
        if obs.cost_lines:
            evidence["cost_basis"] = [line.to_dict() for line in obs.cost_lines]
        if obs.unpriced:
            evidence["unpriced"] = list(obs.unpriced)
        return Finding(
            rule_id=self.id,
            title=self.title,
            category=self.category,
            severity=self.level(self.severity, obs, Severity),
            confidence=self.level(self.confidence, obs, Confidence),
            observation=obs,
            monthly_cost_usd=round(cost, 2),
            estimated_monthly_savings_usd=round(waste * factor, 2),
            recommendation=self.recommendation,
            evidence=evidence,
        )


def is_money(metric: str) -> bool:
    """Dollar fields end in `_usd` (monthly_cost_usd, attached_storage_monthly_usd, ...)."""
    return metric.endswith("_usd")


def _lower_bound(rule: Rule, value: Any, cond: dict[str, Any]) -> bool | None:
    """A dollar comparison when part of the price is unknown: `value` (the priced part) is a
    lower bound of the truth, so `gte`/`gt` that hold on it hold, `lt`/`lte` that fail on it
    fail, and everything else is undecided (None)."""
    known = _number(value)
    ops = [op for op in _LEAF_OPS if op in cond and op != "exists"]
    if ops and all(op in ("gt", "gte") for op in ops) and _leaf(rule, known, cond):
        return True
    if ops and all(op in ("lt", "lte") for op in ops) and not _leaf(rule, known, cond):
        return False
    return None


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _leaf(rule: Rule, value: Any, cond: dict[str, Any]) -> bool:
    for op in _LEAF_OPS:
        if op not in cond or op == "exists":
            continue
        target = rule.resolve(cond[op])
        if op in _COMPARE:
            try:
                ok = _COMPARE[op](value, target)
            except TypeError:
                ok = _COMPARE[op](str(value), str(target))
        elif op == "in":
            ok = value in [rule.resolve(t) for t in target]
        elif op == "not_in":
            ok = value not in [rule.resolve(t) for t in target]
        else:  # matches
            ok = re.search(str(target), str(value)) is not None
        if not ok:
            return False
    return True


# --- loading and validation -------------------------------------------------------------------

_VALIDATOR = jsonschema.Draft202012Validator(RULE_SCHEMA)


def default_rules_dir() -> Path:
    """`rules/` inside the wheel, or the repository's `rules/` in a source checkout."""
    packaged = resources.files("aifinops_cli") / "rules"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "rules"


def _rule_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
    if not path.exists():
        raise SourceError(str(path), None, "", "no such rules file or directory")
    return [path]


def _semantic_checks(doc: Located, base: tuple[Any, ...], spec: dict[str, Any]) -> None:
    params = spec.get("params") or {}

    def refs(node: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], str]]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield from refs(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from refs(v, (*path, i))
        elif isinstance(node, str):
            m = _PARAM.match(node)
            if m:
                yield path, m.group(1)
            elif node.startswith("${"):
                yield path, ""

    for key in ("when", "savings", "severity", "confidence"):
        for path, name in refs(spec.get(key), (*base, key)):
            if not name:
                raise doc.error(path, "malformed parameter reference (use ${name})")
            if name not in params:
                raise doc.error(path, f"unknown parameter ${{{name}}}: declare it under params")

    def regexes(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            if "matches" in node and isinstance(node["matches"], str):
                try:
                    re.compile(node["matches"])
                except re.error as exc:
                    raise doc.error((*path, "matches"), f"invalid regular expression: {exc}") from None
            for k, v in node.items():
                regexes(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                regexes(v, (*path, i))

    regexes(spec.get("when"), (*base, "when"))


def _refs(doc: Located, base: tuple[Any, ...], spec: dict[str, Any]) -> list[Ref]:
    """Every resource kind and field (`metric:`, `evidence:`) the rule names; tags are free."""

    def ref(kind: str, name: str, path: tuple[Any, ...]) -> Ref:
        return Ref(kind, name, doc.file, doc.line_of(path), ".".join(str(p) for p in path))

    out = [ref("resource", kind, (*base, "resource", i)) for i, kind in enumerate(spec["resource"])]

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("metric"), str):
                out.append(ref("field", node["metric"], (*path, "metric")))
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    for key in ("when", "severity", "confidence", "savings", "cost"):
        walk(spec.get(key), (*base, key))
    out += [ref("field", name, (*base, "evidence", i)) for i, name in enumerate(spec.get("evidence") or [])]
    return out


def parse_rules_text(text: str, file: str) -> list[Rule]:
    """The rules of one file, checked. A pure function of (text, file), so a process parses and
    schema-checks each file once (every scan reads the same ~40 bundled rules: about 60 ms);
    each caller gets its own copies, which config overrides may change (only `enabled`,
    `severity` and `params` entries are ever set: apply_config; the conditions are shared)."""
    return [replace(rule, params=dict(rule.params)) for rule in _parse_rules_text(text, file)]


@functools.lru_cache(maxsize=64)
def _parse_rules_text(text: str, file: str) -> tuple[Rule, ...]:
    out: list[Rule] = []
    for doc in load_documents(text, file):
        if doc.data is None:
            continue
        try:
            jsonschema.validate(doc.data, FILE_SCHEMA)
        except jsonschema.ValidationError as exc:
            raise doc.error(tuple(exc.absolute_path), "expected a mapping with a `rules:` list") from None
        seen: set[str] = set()
        for index, spec in enumerate(doc.data["rules"]):
            base = ("rules", index)
            errors = sorted(_VALIDATOR.iter_errors(spec), key=lambda e: list(e.absolute_path))
            if errors:
                raise schema_error(doc, base, errors[0])
            _semantic_checks(doc, base, spec)
            if spec["id"] in seen:
                raise doc.error((*base, "id"), f"duplicate rule id {spec['id']!r} in this file")
            seen.add(spec["id"])
            out.append(
                Rule(
                    id=spec["id"],
                    title=spec["title"],
                    category=spec["category"],
                    resource=list(spec["resource"]),
                    severity=spec["severity"],
                    confidence=spec.get("confidence", "medium"),
                    params=dict(spec.get("params") or {}),
                    when=spec["when"],
                    savings=spec["savings"],
                    recommendation=spec["recommendation"].strip(),
                    description=spec.get("description", "").strip(),
                    cost_metric=(spec.get("cost") or {}).get("metric", "monthly_cost_usd"),
                    evidence_fields=list(spec.get("evidence") or []),
                    references=list(spec.get("references") or []),
                    origin=f"{file}:{doc.line_of(base)}",
                    refs=_refs(doc, base, spec),
                )
            )
    return tuple(out)


def load_rules(
    extra: list[Path] | None = None, config: Config | None = None, include_defaults: bool = True
) -> list[Rule]:
    """Defaults, then `--rules` paths (same id replaces), then config overrides."""
    by_id: dict[str, Rule] = {}
    paths = ([default_rules_dir()] if include_defaults else []) + list(extra or [])
    for root in paths:
        for file in _rule_files(root):
            for rule in parse_rules_text(read_text(file, "rules file"), str(file)):
                by_id[rule.id] = rule
    if config is not None:
        apply_config(by_id, config)
    return sorted(by_id.values(), key=lambda r: r.id)


def _config_error(config: Config, path: tuple[str, ...], from_set: bool, message: str) -> SourceError:
    """An error in config `rules:` at its file:line, or in a `--set RULE.PARAM=VALUE`."""
    if from_set:
        return SourceError("--set", None, ".".join(path[1:]), message)
    line = next(
        (config.lines[p] for p in (path[:n] for n in range(len(path), 0, -1)) if p in config.lines), None
    )
    return SourceError(config.source, line, ".".join(path), message)


def _param_value(default: Any, value: Any) -> Any:
    """`value` for a parameter whose default is `default`, or ValueError: a number threshold given
    text would compare as text (`"5" < "10"` is False) and never behave as the user meant."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number (the default is {default!r})")
        return value
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("expected text")
    return str(value)


def apply_config(by_id: dict[str, Rule], config: Config) -> None:
    for rule_id, spec in config.rules.items():
        set_params = set(spec.get("_set", []))
        only_set = not (set(spec) - {"params", "_set"}) and set(spec.get("params") or {}) <= set_params
        rule = by_id.get(rule_id)
        if rule is None:
            first = next(iter(spec.get("params") or {}), "")
            where: tuple[str, ...] = ("rules", rule_id, first) if only_set and first else ("rules", rule_id)
            raise _config_error(config, where, only_set, "no rule with this id" + _nearest(rule_id, by_id))
        if "enabled" in spec:
            rule.enabled = bool(spec["enabled"])
        if "severity" in spec:
            try:
                rule.severity = Severity(spec["severity"]).value
            except ValueError:
                raise _config_error(
                    config,
                    ("rules", rule_id, "severity"),
                    False,
                    f"unknown severity {spec['severity']!r} (choose from "
                    f"{', '.join(s.value for s in Severity)})",
                ) from None
        for name, value in (spec.get("params") or {}).items():
            from_set = name in set_params
            path: tuple[str, ...] = (
                ("rules", rule_id, name) if from_set else ("rules", rule_id, "params", name)
            )
            if name not in rule.params:
                known = ", ".join(sorted(rule.params)) or "none"
                raise _config_error(
                    config,
                    path,
                    from_set,
                    f"unknown parameter{_nearest(name, rule.params)} (this rule has: {known})",
                )
            try:
                rule.params[name] = _param_value(rule.params[name], value)
            except ValueError as exc:
                raise _config_error(config, path, from_set, f"{exc}, got {value!r}") from None


# --- rules against what the scanners produce ----------------------------------------------------

COMPUTED_FIELDS = ("monthly_cost_usd",)
"""Fields every observation has whatever its scanner (`Observation.lookup` computes them)."""


@dataclass(frozen=True)
class Vocabulary:
    """The observation kinds the consulted scanners produce and the fields each carries
    (`Scanner.kinds` and `Scanner.fields`); None: a kind whose scanner declares no fields."""

    kinds: dict[str, frozenset[str] | None]
    providers: frozenset[str]  # every scanner of these providers was consulted

    @classmethod
    def of(cls, scanners: Iterable[Any]) -> Vocabulary:
        kinds: dict[str, frozenset[str] | None] = {}
        providers: set[str] = set()
        for scanner in scanners:
            providers.add(scanner.provider)
            declared: dict[str, tuple[str, ...]] = getattr(scanner, "fields", None) or {}
            for kind in (*getattr(scanner, "kinds", ()), *declared):
                providers.add(kind.split(".", 1)[0])
                names = declared.get(kind)
                if names is None or (kind in kinds and kinds[kind] is None):
                    kinds[kind] = None  # one undeclared producer: its fields are unknown
                else:
                    kinds[kind] = (kinds.get(kind) or frozenset(COMPUTED_FIELDS)) | frozenset(names)
        return cls(kinds, frozenset(providers))


def _nearest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_vocabulary(
    rules: Iterable[Rule], vocabulary: Vocabulary, unchecked: Iterable[str] = ()
) -> list[str]:
    """Refuse a rule that names a resource kind or a field no scanner produces (it would never
    fire): SourceError at the name's file:line, with the nearest valid name. Kinds under
    `unchecked` providers (built-in ones this run did not consult) are left alone; kinds under a
    provider no consulted scanner knows (a plugin that is not installed, e.g. `azure.vm`) are
    returned as warnings, not refused."""
    skip = set(unchecked)
    warnings: list[str] = []
    for rule in rules:
        kinds = [r for r in rule.refs if r.kind == "resource"]
        fields: set[str] = set()
        checkable = True
        for ref in kinds:
            provider = ref.name.split(".", 1)[0]
            if ref.name in vocabulary.kinds:
                declared = vocabulary.kinds[ref.name]
                if declared is None:
                    checkable = False
                else:
                    fields |= declared
            elif provider in vocabulary.providers:
                raise ref.error(
                    f"unknown resource kind {ref.name!r}: no scanner produces it"
                    + _nearest(ref.name, vocabulary.kinds)
                )
            else:
                checkable = False
                if provider not in skip:
                    loc = f"{ref.file}:{ref.line}" if ref.line else ref.file
                    warnings.append(
                        f"{loc}: {ref.where}: resource kind {ref.name!r}: no installed scanner "
                        f"produces {provider}.* kinds, so rule {rule.id} is not checked against "
                        "one and fires only once a plugin produces them"
                    )
        if not checkable:
            continue
        for ref in rule.refs:
            if ref.kind == "field" and ref.name not in fields:
                kinds_text = ", ".join(r.name for r in kinds)
                raise ref.error(
                    f"unknown field {ref.name!r}: no scanner of {kinds_text} emits it"
                    + _nearest(ref.name, fields)
                )
    return warnings


def check_rule_patterns(patterns: Iterable[tuple[str, str, str]], rules: Iterable[Rule]) -> None:
    """(pattern, "file:line", field) triples that name rules, such as a suppression's `rule:` (a
    glob): one that matches no loaded rule would never match anything, so it is a SourceError at
    its line with the nearest rule id."""
    ids = sorted(r.id for r in rules)
    for pattern, source, where in patterns:
        if not any(fnmatchcase(rule_id, pattern) for rule_id in ids):
            file, _, line = source.rpartition(":")
            raise SourceError(
                file or source,
                int(line) if line.isdigit() else None,
                where,
                f"no rule matches {pattern!r}{_nearest(pattern, ids)}: it would "
                "never apply (see `aifinops rules list`)",
            )


def evaluate(rules: list[Rule], observations: Iterable[Observation]) -> list[Finding]:
    by_kind: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.enabled:
            for kind in rule.resource:
                by_kind.setdefault(kind, []).append(rule)
    findings: list[Finding] = []
    for obs in observations:
        for rule in by_kind.get(obs.kind, ()):
            finding = rule.evaluate(obs)
            if finding is not None:
                findings.append(finding)
    return sort_findings(findings)


def severity_ranks(findings: list[Finding], value: Callable[[Finding], float]) -> dict[int, float]:
    """The rank value of each unpriced finding (by `id()`), severity first: its own `value`, or
    that of the strongest priced finding of its severity or lower if that is more. Its true
    savings are unknown and its severity was judged on what it is (an idle 8-GPU machine is
    high), so it ranks just ahead of the strongest priced finding of its severity or lower, and
    behind priced findings of a higher severity that rank higher. No dollar is
    invented: only the order (and `priority`) changes, never an amount or a total."""
    best: dict[Severity, float] = {}  # severity -> best priced value at that severity or lower
    for f in findings:
        if not f.unpriced:
            for sev in Severity:
                if sev.rank >= f.severity.rank:
                    best[sev] = max(best.get(sev, 0.0), value(f))
    return {id(f): max(value(f), best.get(f.severity, 0.0)) for f in findings if f.unpriced}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """By priority; an unpriced finding by severity first (see `severity_ranks`), just ahead of
    the priced finding whose priority it takes (ties: unpriced first, then higher severity)."""
    ranks = severity_ranks(findings, lambda f: f.savings_priority)
    for f in findings:
        f.ranked_priority = ranks.get(id(f))
        if f.ranked_priority is not None and f.ranked_priority > f.savings_priority:
            f.evidence["priority_basis"] = (
                f"unpriced: ranked by severity first ({f.severity.value}), at the priority of the "
                f"strongest priced finding of that severity or lower ({f.ranked_priority:,.2f}); "
                f"its savings stay a lower bound and count in no total beyond the known part"
            )
    return sorted(
        findings,
        key=lambda f: (
            -f.priority,
            not f.unpriced,
            -f.severity.rank if f.unpriced else 0,
            -f.estimated_monthly_savings_usd,
            f.rule_id,
            f.observation.id,
        ),
    )


def rule_schema_json() -> str:
    return json.dumps(RULE_SCHEMA, indent=2)
