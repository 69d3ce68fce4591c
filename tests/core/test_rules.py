"""Rules: validation that points at the line, condition semantics, parameters, scoring."""

from __future__ import annotations

import textwrap

import pytest

from aifinops_cli.core.config import Config, apply_set, load_config
from aifinops_cli.core.models import Confidence, CostLine, Finding, Observation, Severity
from aifinops_cli.core.rules import evaluate, load_rules, parse_rules_text
from aifinops_cli.core.yamlsrc import SourceError

RULE = """\
rules:
  - id: test-idle
    title: Idle thing
    category: zombie-infrastructure
    resource: [test.box]
    params: {cpu: 10}
    severity:
      default: low
      cases:
        - when: {metric: monthly_cost_usd, gte: 100}
          level: high
    confidence:
      default: medium
      cases:
        - when: {metric: gpu, exists: true}
          level: high
    when:
      all:
        - {metric: cpu, lt: "${cpu}"}
        - {metric: gpu, lt: 5, missing: true}
        - not: {tag: keep, eq: "true"}
        - any:
            - {metric: state, in: [running, pending]}
            - {metric: name_like, matches: "^zz"}
    savings: {metric: monthly_cost_usd, factor: 0.5}
    evidence: [cpu, gpu]
    recommendation: Stop it.
"""


def box(cpu=None, gpu=None, tags=None, state="running", price=1.0, hours=100.0):
    metrics = {"cpu": cpu, "gpu": gpu}
    return Observation(
        provider="test",
        kind="test.box",
        id="b-1",
        metrics={k: v for k, v in metrics.items() if v is not None},
        attributes={"state": state},
        tags=tags or {},
        cost_lines=(CostLine("box", price, "hour", hours, "test-catalog", "2026-11-01"),),
    )


def rules():
    return parse_rules_text(RULE, "inline.yaml")


def test_conditions_and_amounts():
    # cost 1.0 $/h x 100 h = 100.00 -> severity high; savings factor 0.5 -> 50.00
    [f] = evaluate(rules(), [box(cpu=3)])
    assert f.monthly_cost_usd == 100.0
    assert f.estimated_monthly_savings_usd == 50.0
    assert f.severity is Severity.HIGH
    assert f.confidence is Confidence.MEDIUM  # no GPU metric
    assert f.evidence["cpu"] == 3 and f.evidence["thresholds"] == {"cpu": 10}
    assert f.evidence["cost_basis"][0]["monthly_usd"] == 100.0


def test_missing_metric_semantics_and_tags():
    assert evaluate(rules(), [box(cpu=None)]) == []  # cpu missing -> condition fails
    assert evaluate(rules(), [box(cpu=3, gpu=50)]) == []  # busy GPU
    [f] = evaluate(rules(), [box(cpu=3, gpu=1, price=0.5)])  # 50.00 -> low, GPU -> high confidence
    assert (f.severity, f.confidence) == (Severity.LOW, Confidence.HIGH)
    assert evaluate(rules(), [box(cpu=3, tags={" Keep": "true"})]) == []  # tag keys normalised
    assert evaluate(rules(), [box(cpu=3, state="stopped")]) == []


def test_priority_is_savings_times_weights():
    # savings 50.00 x severity weight high 1.5 x confidence weight high 1.0 = 75.00
    f = Finding("r", "t", "c", Severity.HIGH, Confidence.HIGH, box(), 100.0, 50.0, "", {})
    assert f.priority == 75.0
    # 50.00 x low 0.5 x medium 0.75 = 18.75
    f = Finding("r", "t", "c", Severity.LOW, Confidence.MEDIUM, box(), 100.0, 50.0, "", {})
    assert f.priority == 18.75


def test_fingerprint_ignores_costs():
    a = Finding("r", "t", "c", Severity.HIGH, Confidence.HIGH, box(price=1), 1.0, 1.0, "", {})
    b = Finding("r", "t", "c", Severity.LOW, Confidence.LOW, box(price=9), 9.0, 9.0, "", {})
    assert a.fingerprint == b.fingerprint


@pytest.mark.parametrize(
    ("broken", "line", "field", "words"),
    [
        (
            RULE.replace("    title: Idle thing\n", "    title: Idle thing\n    colour: red\n"),
            4,
            "rules.0.colour",
            "unknown field",
        ),
        (RULE.replace('lt: "${cpu}"', 'lt: "${cpuu}"'), 19, "rules.0.when.all.0.lt", "unknown parameter"),
        (
            RULE.replace('matches: "^zz"', 'matches: "(["'),
            24,
            "rules.0.when.all.3.any.1.matches",
            "invalid regular expression",
        ),
        (
            RULE.replace("severity:\n      default: low", "severity:\n      default: urgent"),
            8,
            "rules.0.severity.default",
            "is not one of",
        ),
        (
            RULE.replace("category: zombie-infrastructure", "category: Zombie Infra"),
            4,
            "rules.0.category",
            "does not match",
        ),
        (RULE.replace("    recommendation: Stop it.\n", ""), 2, "rules.0", "'recommendation' is a required"),
        ("rules:\n  - id: x\n   title: [\n", 3, "", "invalid YAML"),
    ],
)
def test_validation_points_at_file_line_field(broken, line, field, words):
    with pytest.raises(SourceError) as err:
        parse_rules_text(broken, "my-rules.yaml")
    assert err.value.file == "my-rules.yaml"
    assert err.value.line == line, str(err.value)
    assert err.value.where == field, str(err.value)
    assert words in err.value.message


def test_default_rules_are_valid_and_user_rules_replace_them(tmp_path):
    defaults = load_rules()
    assert {"aws-ebs-unattached", "aws-ec2-idle-gpu", "aws-ec2-stopped-gpu-storage"} <= {
        r.id for r in defaults
    }
    custom = tmp_path / "mine.yaml"
    custom.write_text(RULE.replace("id: test-idle", "id: aws-ebs-unattached"))
    merged = {r.id: r for r in load_rules([custom])}
    assert merged["aws-ebs-unattached"].title == "Idle thing"
    assert len(merged) == len(defaults)


def test_params_from_config_and_set(tmp_path):
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text(
        textwrap.dedent("""\
        owner_tag_keys: [squad]
        rules:
          aws-ec2-idle-gpu:
            params: {cpu_max_pct: 3}
          aws-ebs-unattached:
            enabled: false
        """)
    )
    config = load_config(cfg, ["aws-ec2-idle-gpu.gpu_util_max_pct=2"])
    loaded = {r.id: r for r in load_rules(config=config)}
    assert loaded["aws-ec2-idle-gpu"].params["cpu_max_pct"] == 3
    assert loaded["aws-ec2-idle-gpu"].params["gpu_util_max_pct"] == 2
    assert loaded["aws-ebs-unattached"].enabled is False
    assert config.owner_from_tags({"Squad ": "core"}) == "core"


def test_unknown_param_and_rule_are_errors():
    config = Config()
    apply_set(config, "aws-ec2-idle-gpu.cpu_maxx=3")
    with pytest.raises(SourceError, match="unknown parameter"):
        load_rules(config=config)
    config = Config(rules={"no-such-rule": {"enabled": False}})
    with pytest.raises(SourceError, match="no rule with this id"):
        load_rules(config=config)
    with pytest.raises(SourceError, match="KEY=VALUE"):
        apply_set(Config(), "nonsense")


def test_config_errors_point_at_line(tmp_path):
    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("lookback_days: 7\nrulez: {}\n")
    with pytest.raises(SourceError) as err:
        load_config(cfg)
    assert (err.value.line, err.value.where) == (2, "rulez")
