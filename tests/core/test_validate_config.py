"""Config surfaces that used to be read late, silently ignored or reported without a line:
rule overrides and `--set` (unknown rule or parameter, a number threshold given text), `history:`,
`budgets:` and `llm.budgets`, suppressions naming no rule, and `pricing.cache_dir` in a
project config. Each is exit 2 naming file:line before the scan looks at its input."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifinops_cli.core.config import Config, apply_set, load_config
from aifinops_cli.core.rules import load_rules
from aifinops_cli.core.yamlsrc import SourceError
from tests.conftest import run_cli

# a scan that would read nothing but a missing log file: exit 3 if it got that far
NO_SCAN = ["scan", "--llm-logs", "/nonexistent/never-read.jsonl"]


def refused(runner, *args: str) -> str:
    result = run_cli(runner, *args)
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("aifinops: error:")]
    return line


SET_CASES = [
    (
        "aws-ec2-idle-gpux.cpu_max_pct=5",
        "--set: aws-ec2-idle-gpux.cpu_max_pct: no rule with this id (did you mean 'aws-ec2-idle-gpu'?)",
    ),
    (
        "aws-ec2-idle-gpu.cpu_max_pctt=5",
        "--set: aws-ec2-idle-gpu.cpu_max_pctt: unknown parameter (did you mean 'cpu_max_pct'?)",
    ),
    # before: accepted, then `cpu_max_pct < "fast"` compared as text and the rule misfired
    (
        "aws-ec2-idle-gpu.cpu_max_pct=fast",
        "--set: aws-ec2-idle-gpu.cpu_max_pct: expected a number (the default is 10), got 'fast'",
    ),
]


@pytest.mark.parametrize(("item", "says"), SET_CASES)
def test_bad_set_is_exit_2_naming_the_flag(runner, item: str, says: str) -> None:
    assert says in refused(runner, *NO_SCAN, "--set", item)


CONFIG_CASES = [
    (
        "rules:\n  aws-ec2-idle-gpux: {enabled: false}\n",
        2,
        "rules.aws-ec2-idle-gpux",
        "no rule with this id (did you mean 'aws-ec2-idle-gpu'?)",
    ),
    (
        "rules:\n  aws-ec2-idle-gpu:\n    params: {cpu_max_pctt: 3}\n",
        3,
        "rules.aws-ec2-idle-gpu.params.cpu_max_pctt",
        "unknown parameter (did you mean 'cpu_max_pct'?)",
    ),
    (
        "rules:\n  aws-ec2-idle-gpu:\n    params:\n      cpu_max_pct: '5'\n",
        4,
        "rules.aws-ec2-idle-gpu.params.cpu_max_pct",
        "expected a number (the default is 10), got '5'",
    ),
    (
        "rules:\n  aws-ec2-idle-gpu:\n    severity: hgh\n",
        3,
        "rules.aws-ec2-idle-gpu.severity",
        "unknown severity 'hgh' (choose from info, low, medium, high, critical)",
    ),
    ("history:\n  keep: 3\n", 2, "history.keep", "unknown setting (known: path, record, keep_runs)"),
    ("history:\n  record: 'yes'\n", 2, "history.record", "must be true or false"),
    ("history:\n  keep_runs: 1\n", 2, "history.keep_runs", "a whole number of at least 2"),
    ("budgets:\n  team: {search: 500}\n", 2, "budgets.team", "unknown setting (known: llm"),
    (
        "budgets:\n  llm:\n    team: {search: lots}\n",
        3,
        "budgets.llm.team.search",
        "a budget is a number of USD per month (0 or more), got 'lots'",
    ),
    (
        "llm:\n  budgets:\n    squad: {search: 500}\n",
        3,
        "llm.budgets.squad",
        "unknown budget dimension (known: team, app, customer)",
    ),
    ("llm:\n  budgets:\n    team: [500]\n", 3, "llm.budgets.team", "expected a mapping of name: USD"),
    ("llm:\n  budgets:\n    app:\n      chat: -20\n", 4, "llm.budgets.app.chat", "got -20"),
]


@pytest.mark.parametrize(("body", "line", "where", "says"), CONFIG_CASES)
def test_bad_config_is_exit_2_at_its_line(
    runner, tmp_path: Path, body: str, line: int, where: str, says: str
) -> None:
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(body, encoding="utf-8")
    message = refused(runner, "-c", str(cfg), *NO_SCAN)
    assert f"{cfg}:{line}: {where}: " in message, message
    assert says in message, message


def test_good_overrides_keep_their_types(tmp_path: Path) -> None:
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(
        "rules:\n  aws-ec2-idle-gpu:\n    params: {cpu_max_pct: 2.5}\n"
        "llm:\n  budgets: {team: {search: 500}, customer: {acme: 0}}\n",
        encoding="utf-8",
    )
    config = load_config(cfg, ["aws-ebs-unattached.min_age_days=7"])
    rules = {r.id: r for r in load_rules(config=config)}
    assert rules["aws-ec2-idle-gpu"].params["cpu_max_pct"] == 2.5
    assert rules["aws-ebs-unattached"].params["min_age_days"] == 7


def test_unknown_rule_in_set_says_set_not_the_config() -> None:
    config = Config(source="conf.yaml")
    apply_set(config, "aws-ebs-unatached.min_age_days=3")
    with pytest.raises(SourceError) as err:
        load_rules(config=config)
    assert err.value.file == "--set" and "did you mean 'aws-ebs-unattached'?" in err.value.message


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (
            "{rule: aws-ec2-idle-gpux, reason: drill}",
            "no rule matches 'aws-ec2-idle-gpux' (did you mean 'aws-ec2-idle-gpu'?)",
        ),
        ("{rule: 'azure-*', reason: drill}", "no rule matches 'azure-*'"),
    ],
)
def test_suppression_naming_no_rule_is_exit_2(runner, tmp_path: Path, entry: str, says: str) -> None:
    sup = tmp_path / "sup.yaml"
    sup.write_text(f"suppressions:\n  - {{owner: research, reason: ok}}\n  - {entry}\n", encoding="utf-8")
    message = refused(runner, *NO_SCAN, "--suppressions", str(sup))
    assert f"{sup}:3: rule: {says}" in message, message


def test_suppression_globs_that_match_a_rule_are_fine(runner, tmp_path: Path) -> None:
    sup = tmp_path / "sup.yaml"
    sup.write_text("suppressions:\n  - {rule: 'aws-ebs-*', reason: drill}\n", encoding="utf-8")
    result = run_cli(runner, *NO_SCAN, "--suppressions", str(sup))
    assert result.exit_code == 3, result.output  # got as far as the (missing) log file


def test_project_config_may_not_move_the_price_cache(runner, tmp_path: Path, monkeypatch) -> None:
    """The price cache is written to: a config found in a checked-out repository must not
    choose where (as for history.path)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aifinops.yaml").write_text("pricing:\n  cache_dir: /tmp/elsewhere\n", encoding="utf-8")
    message = refused(runner, *NO_SCAN)
    assert "aifinops.yaml:2: pricing.cache_dir: not allowed in ./aifinops.yaml" in message, message
