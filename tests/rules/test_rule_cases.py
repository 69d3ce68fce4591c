"""Every default rule against its own YAML cases (rules/tests/*.yaml, in the manner of sqlfluff's
rule test cases): a `fail_` case is an observation the rule must turn into a finding with the
severity, confidence and amounts computed by hand in the case file; a `pass_` case is a near miss
(just past a threshold) it must not fire on. A rule without both kinds of case fails here."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from aifinops_cli.core.models import CostLine, Observation
from aifinops_cli.core.rules import Rule, default_rules_dir, evaluate, load_rules
from tests.paths import ROOT

CASES_DIR = ROOT / "rules" / "tests"
OBSERVATION_FIELDS = {
    "provider",
    "kind",
    "id",
    "account",
    "region",
    "name",
    "tags",
    "owner",
    "metrics",
    "attributes",
    "cost_lines",
    "evidence",
    "covers",
    "unpriced",
}
FINDING_FIELDS = {"severity", "confidence", "monthly_cost_usd", "savings_usd"}


def _load_cases() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(case file, rule id, case name, case) for every case of every file."""
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict) and doc, f"{path.name}: expected a mapping of rule ids to cases"
        for rule_id, cases in doc.items():
            assert isinstance(cases, dict) and cases, f"{path.name}: {rule_id} has no cases"
            for name, case in cases.items():
                out.append((path.name, rule_id, name, case))
    return out


CASES = _load_cases()
RULES = {r.id: r for r in load_rules()}


def _observation(spec: dict[str, Any]) -> Observation:
    unknown = set(spec) - OBSERVATION_FIELDS
    assert not unknown, f"unknown observation fields {sorted(unknown)}"
    fields = dict(spec)
    fields["cost_lines"] = tuple(CostLine(**line) for line in spec.get("cost_lines", ()))
    for name in ("evidence", "covers", "unpriced"):
        fields[name] = tuple(spec.get(name, ()))
    fields["account"] = str(spec.get("account", ""))
    return Observation(**fields)


def _rule(rule_id: str, params: dict[str, Any] | None) -> Rule:
    rule = copy.deepcopy(RULES[rule_id])
    for name, value in (params or {}).items():
        assert name in rule.params, f"{rule_id} has no parameter {name!r}"
        rule.params[name] = value
    return rule


@pytest.mark.parametrize(("file", "rule_id", "name", "case"), CASES, ids=[f"{r}:{n}" for _, r, n, _ in CASES])
def test_rule_case(file: str, rule_id: str, name: str, case: dict[str, Any]) -> None:
    assert rule_id in RULES, f"{file}: no default rule {rule_id!r}"
    assert name.startswith(("fail_", "pass_")), f"{file}: {rule_id}.{name}: name it fail_... or pass_..."
    assert set(case) <= {"params", "observation", "finding"}, sorted(case)
    rule = _rule(rule_id, case.get("params"))
    obs = _observation(case["observation"])
    # a near miss of another kind would pass for the wrong reason: the rule must apply to it
    assert obs.kind in rule.resource, f"{rule_id} does not judge {obs.kind}"
    findings = evaluate([rule], [obs])
    if name.startswith("pass_"):
        assert "finding" not in case, f"{rule_id}.{name}: a pass case expects no finding"
        assert findings == [], f"{rule_id} fired on its near miss {name}"
        return
    expected = case["finding"]
    assert set(expected) == FINDING_FIELDS, sorted(expected)
    [finding] = findings
    assert finding.rule_id == rule_id
    assert finding.severity.value == expected["severity"]
    assert finding.confidence.value == expected["confidence"]
    # the finding's amounts are rounded to cents; the case's are the exact arithmetic
    assert finding.monthly_cost_usd == pytest.approx(expected["monthly_cost_usd"], abs=0.0051)
    assert finding.estimated_monthly_savings_usd == pytest.approx(expected["savings_usd"], abs=0.0051)
    if obs.cost_lines and rule.cost_metric == "monthly_cost_usd":
        # the cost is its traced price lines: unit price x quantity, summed
        assert finding.monthly_cost_usd == pytest.approx(
            sum(line.unit_price_usd * line.quantity for line in obs.cost_lines), abs=0.0051
        )


def test_every_default_rule_has_a_fail_and_a_pass_case() -> None:
    kinds: dict[str, set[str]] = {}
    for _, rule_id, name, _ in CASES:
        kinds.setdefault(rule_id, set()).add(name.split("_", 1)[0])
    missing = {rule_id: sorted({"fail", "pass"} - kinds.get(rule_id, set())) for rule_id in RULES}
    assert {k: v for k, v in missing.items() if v} == {}, "add cases under rules/tests/"


def test_case_files_mirror_the_rules_files_and_are_not_loaded_as_rules() -> None:
    rules_dir = default_rules_dir().resolve()
    files = {Path(r.origin.rsplit(":", 1)[0]).resolve() for r in RULES.values()}
    # rule loading reads rules/*.yaml only, never the cases folder beside them
    assert {f.parent for f in files} == {rules_dir}
    assert {f.name for f in files} == {p.name for p in CASES_DIR.glob("*.yaml")}
    by_file: dict[str, set[str]] = {}
    for r in RULES.values():
        by_file.setdefault(Path(r.origin.rsplit(":", 1)[0]).name, set()).add(r.id)
    for file, rule_id, _, _ in CASES:
        assert rule_id in by_file[file], f"rules/tests/{file}: {rule_id} is not a rule of rules/{file}"
