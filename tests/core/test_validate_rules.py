"""Rules are checked against what the scanners produce: a resource kind or a field no scanner emits
is exit 2 at its file:line with the nearest valid name, before any scan work; the scanners'
declarations (`Scanner.fields`) are checked against their real output on the demo estate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from aifinops_cli.core.plugin import Scanner
from aifinops_cli.core.registry import load_scanners, provider_names
from aifinops_cli.core.rules import (
    COMPUTED_FIELDS,
    Vocabulary,
    check_vocabulary,
    load_rules,
    parse_rules_text,
)
from aifinops_cli.core.yamlsrc import SourceError
from tests.conftest import run_cli
from tests.llm_helpers import scan as llm_scan

RULE = """\
rules:
  - id: my-idle-gpu
    title: Idle GPU
    category: zombie-infrastructure
    resource: [{kind}]
    severity: medium
    params: {{cpu: 5}}
    when:
      all:
        - {{metric: state, eq: running}}
        - {{metric: {metric}, lt: "${{cpu}}"}}
    savings: {{metric: {savings}}}
    evidence: [instance_type, {evidence}]
    recommendation: Stop it.
"""


def rule_text(
    kind: str = "aws.ec2.instance",
    metric: str = "cpu_max_pct",
    savings: str = "monthly_cost_usd",
    evidence: str = "cpu_avg_pct",
) -> str:
    return RULE.format(kind=kind, metric=metric, savings=savings, evidence=evidence)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.of(load_scanners().values())


def check(text: str, vocabulary: Vocabulary) -> list[str]:
    return check_vocabulary(parse_rules_text(text, "mine.yaml"), vocabulary)


def test_every_default_rule_names_kinds_and_fields_the_scanners_produce(vocabulary: Vocabulary) -> None:
    rules = load_rules()
    assert len(rules) >= 29
    assert check_vocabulary(rules, vocabulary) == []  # no error, and no warning either
    assert {k.split(".")[0] for r in rules for k in r.resource} <= set(provider_names())


def test_unknown_kind_names_line_and_nearest_kind(vocabulary: Vocabulary) -> None:
    with pytest.raises(SourceError) as err:
        check(rule_text(kind="aws.ec2.instnce"), vocabulary)
    assert (err.value.file, err.value.line, err.value.where) == ("mine.yaml", 5, "rules.0.resource.0")
    assert "unknown resource kind 'aws.ec2.instnce'" in err.value.message
    assert "did you mean 'aws.ec2.instance'?" in err.value.message


@pytest.mark.parametrize(
    ("where", "line", "kwargs", "nearest"),
    [
        ("rules.0.when.all.1.metric", 11, {"metric": "cpu_max_pc"}, "cpu_max_pct"),
        ("rules.0.savings.metric", 12, {"savings": "monthly_cost"}, "monthly_cost_usd"),
        ("rules.0.evidence.1", 13, {"evidence": "gpu_util_avgpct"}, "gpu_util_avg_pct"),
    ],
)
def test_unknown_field_names_line_and_nearest_field(
    vocabulary: Vocabulary, where: str, line: int, kwargs: dict[str, str], nearest: str
) -> None:
    with pytest.raises(SourceError) as err:
        check(rule_text(**kwargs), vocabulary)
    assert (err.value.line, err.value.where) == (line, where)
    assert "no scanner of aws.ec2.instance emits it" in err.value.message
    assert f"did you mean {nearest!r}?" in err.value.message


def test_field_of_another_kind_is_refused(vocabulary: Vocabulary) -> None:
    # `invocations` is a SageMaker endpoint field, not an EC2 one: the rule could never fire
    with pytest.raises(SourceError, match="unknown field 'invocations'"):
        check(rule_text(metric="invocations"), vocabulary)


def test_severity_cases_fields_are_checked(vocabulary: Vocabulary) -> None:
    text = rule_text().replace(
        "severity: medium",
        "severity: {default: low, cases: [{when: {metric: gpu_cnt, gte: 4}, level: high}]}",
    )
    with pytest.raises(SourceError) as err:
        check(text, vocabulary)
    assert (err.value.line, err.value.where) == (6, "rules.0.severity.cases.0.when.metric")


def test_tags_are_free(vocabulary: Vocabulary) -> None:
    text = rule_text().replace("- {metric: state, eq: running}", "- {tag: any-team-key, exists: false}")
    assert check(text, vocabulary) == []


def test_plugin_kind_is_a_warning_not_an_error(vocabulary: Vocabulary) -> None:
    # no installed scanner produces azure.*: a third-party plugin's rules must still load
    warnings = check(rule_text(kind="azure.vm", metric="anything_at_all"), vocabulary)
    assert len(warnings) == 1
    assert warnings[0].startswith("mine.yaml:5: rules.0.resource.0: resource kind 'azure.vm'")
    assert "no installed scanner produces azure.* kinds" in warnings[0]


def test_installed_plugin_declarations_are_used() -> None:
    class AzureVm(Scanner):
        name, provider, description = "azure.vm", "azure", "Azure VMs"
        kinds = ("azure.vm",)
        fields: ClassVar[dict[str, tuple[str, ...]]] = {
            "azure.vm": ("cpu_max_pct", "state", "instance_type", "cpu_avg_pct")
        }

        def scan(self):  # pragma: no cover - never run
            raise NotImplementedError

    class Undeclared(Scanner):  # an older plugin: kinds without fields
        name, provider, description = "acme.box", "acme", "boxes"
        kinds = ("acme.box",)

        def scan(self):  # pragma: no cover - never run
            raise NotImplementedError

    vocab = Vocabulary.of([AzureVm, Undeclared])
    assert vocab.kinds["azure.vm"] == frozenset(
        {"cpu_max_pct", "state", "instance_type", "cpu_avg_pct", *COMPUTED_FIELDS}
    )
    assert check(rule_text(kind="azure.vm"), vocab) == []
    with pytest.raises(SourceError, match=r"unknown resource kind 'azure.vn'.*'azure.vm'"):
        check(rule_text(kind="azure.vn"), vocab)
    with pytest.raises(SourceError, match="unknown field 'cpu_mx_pct'"):
        check(rule_text(kind="azure.vm", metric="cpu_mx_pct"), vocab)
    # the kind is known, its fields are not: not refused
    assert check(rule_text(kind="acme.box", metric="whatever"), vocab) == []


def test_rules_validate_command(tmp_path: Path, runner) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(rule_text(metric="cpu_max_pc"), encoding="utf-8")
    result = run_cli(runner, "rules", "validate", str(bad))
    assert result.exit_code == 2
    assert (
        f"{bad}:11: rules.0.when.all.1.metric: unknown field 'cpu_max_pc': no scanner of "
        "aws.ec2.instance emits it (did you mean 'cpu_max_pct'?)"
    ) in result.stderr
    plugin = tmp_path / "azure.yaml"
    plugin.write_text(rule_text(kind="azure.vm"), encoding="utf-8")
    result = run_cli(runner, "rules", "validate", str(plugin))
    assert result.exit_code == 0, result.stderr
    assert "ok: 1 rules valid" in result.stdout and "(1 warning)" in result.stdout
    assert "warning: " in result.stderr and "'azure.vm'" in result.stderr
    default = run_cli(runner, "rules", "validate", "rules")
    assert default.exit_code == 0 and "warning" not in default.stderr, default.stderr


def test_scan_refuses_before_any_api_call(tmp_path: Path, runner, far_end) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(rule_text(kind="aws.ec2.instnce"), encoding="utf-8")
    out = tmp_path / "r.json"
    result = run_cli(
        runner,
        "scan",
        "-p",
        "aws",
        "--regions",
        "us-east-1",
        "--rules",
        str(bad),
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert result.exit_code == 2, result.output
    assert f"{bad}:5: rules.0.resource.0: unknown resource kind 'aws.ec2.instnce'" in result.stderr
    assert far_end.recorder.calls == []  # not one AWS call was made
    assert not out.exists()


def test_scan_checks_only_the_providers_it_runs(tmp_path: Path, runner) -> None:
    """An AWS rule with a typo does not stop an LLM-log scan (it cannot fire there, and checking
    it would import the AWS scanners); `rules validate` and an AWS scan refuse it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(rule_text(metric="cpu_max_pc"), encoding="utf-8")
    log = tmp_path / "requests.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-mini", '
        '"input_tokens": 10, "output_tokens": 5}\n',
        encoding="utf-8",
    )
    result = run_cli(runner, "scan", "--llm-logs", str(log), "--rules", str(bad), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []


# --- the declarations against the scanners' real output -----------------------------------------


def test_declared_fields_are_what_the_scanners_emit(demo_dir: Path, tmp_path: Path) -> None:
    """Every field a scanner emits on the demo estate is declared, and every declared field is
    emitted (the demo's spend anomalies included: its FOCUS export has 55 days, its logs 30). What
    they emit: the session demo's `--format observations` (conftest demo_dir), and the prompt
    text that only --show-prompts adds, from a log of one repeated prompt."""
    scanners = load_scanners()
    assert set(scanners) == {
        "aws.bedrock",
        "aws.ebs",
        "aws.ec2",
        "aws.eks",
        "aws.sagemaker",
        "aws.sagemaker_components",
        "aws.sagemaker_jobs",
        "aws.sagemaker_studio",
        "aws.snapshots",
        "billing",
        "gcp.compute",
        "gcp.gke",
        "gcp.images",
        "gcp.tpu",
        "gcp.vertex",
        "gcp.workbench",
        "k8s.gpu",
        "llm",
    }
    emitted: dict[tuple[str, str], set[str]] = {}
    with (demo_dir / "aifinops-report.observations.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            obs = json.loads(line)
            name, cls = obs["scanner"], scanners[obs["scanner"]]
            assert obs["kind"] in cls.kinds, (name, obs["kind"])
            emitted.setdefault((name, obs["kind"]), set()).update(obs["metrics"], obs["attributes"])
    repeated = {
        "timestamp": "2026-11-05T10:00:00Z", "provider": "openai", "model": "gpt-4o", "team": "cx",
        "input_tokens": 2000, "output_tokens": 50, "prompt": "the same long prompt",
    }  # fmt: skip
    log = tmp_path / "repeated.jsonl"
    log.write_text("".join(json.dumps({**repeated, "request_id": f"r{i}"}) + "\n" for i in range(10)))
    for obs in llm_scan([str(log)], show_prompts=True).observations:
        if obs.kind == "llm.duplicate_prompt":
            emitted[("llm", obs.kind)] |= set(obs.metrics) | set(obs.attributes)
    for name, cls in scanners.items():
        assert set(cls.fields) == set(cls.kinds), name
    assert {name for name, _ in emitted} == set(scanners)  # every scanner saw something
    assert {("llm", "llm.spend_anomaly"), ("billing", "billing.spend_anomaly")} <= set(emitted)
    # unit economics: built from the LLM scanner's usage by economics/section.py `observations`
    from aifinops_cli.economics import observations

    unit = {
        "name": "acme", "monthly_revenue_usd": 20.0, "total_cost_usd": 6.6, "token_cost_usd": 0.6,
        "infra_cost_usd": 6.0, "ai_cost_share_pct": 33.0, "gross_margin_usd": 13.4, "gross_margin_pct": 67.0,
        "requests": 3, "cost_per_successful_outcome_usd": 6.6, "plan": "starter", "revenue_source": "p.csv:2",
    }  # fmt: skip
    for obs in observations({"units": {"customer": [unit], "feature": []}}):
        emitted[("llm", obs.kind)] = set(obs.metrics) | set(obs.attributes)
    declared = {
        (name, kind): set(names) for name, cls in scanners.items() for kind, names in cls.fields.items()
    }
    assert {
        k: sorted(v - declared.get(k, set())) for k, v in emitted.items() if v - declared.get(k, set())
    } == {}, "emitted but not declared"
    assert {
        k: sorted(v - emitted.get(k, set())) for k, v in declared.items() if v - emitted.get(k, set())
    } == {}, "declared but never emitted"
