"""Every provider declares its config section's keys and value checks (Provider.config_keys and
check_section, in its provider.py), and the pipeline's prepare checks every provider section
present in the config whether or not that provider runs: a typo in `kubernetes:` or `billing:`
is exit 2 at its file:line even on an LLM-only scan, before the (missing) log file is looked at."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifinops_cli.core.config import Config
from aifinops_cli.core.pipeline import RequestError, ScanRequest, prepare
from aifinops_cli.core.plugin import Provider, ScannerError, ScanOptions
from aifinops_cli.core.registry import load_providers
from aifinops_cli.core.rules import load_rules
from aifinops_cli.pricing.catalog import PriceCatalog
from aifinops_cli.scanners.llm.provider import LlmSettings
from tests.conftest import run_cli

# an LLM-only scan of a log file that does not exist: exit 3 if it got as far as reading it
LLM_ONLY = ["scan", "--scanner", "llm", "--llm-logs", "/nonexistent/never-read.jsonl"]


def refused(runner, tmp_path: Path, body: str) -> str:
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(body, encoding="utf-8")
    result = run_cli(runner, "-c", str(cfg), *LLM_ONLY)
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("aifinops: error:")]
    return line.replace(str(cfg), "conf.yaml")


def test_every_builtin_provider_declares_its_section_keys() -> None:
    providers = load_providers()
    sections = {cls.section_name(): cls.config_keys for cls in providers.values()}
    assert set(sections) >= {"aws", "gcp", "kubernetes", "llm", "billing"}
    assert all(
        keys for name, keys in sections.items() if name in ("aws", "gcp", "kubernetes", "llm", "billing")
    ), sections
    assert "onprem_gpu_hourly_usd" in sections["kubernetes"]
    assert {"ai_services", "athena", "bigquery", "top_flows"} <= set(sections["billing"])
    assert {"loop_window_calls", "database", "memory_limit"} <= set(sections["llm"])


# (config, the line it names, what it says): sections of providers this LLM-only scan never runs
NOT_RUNNING = [
    (
        "lookback_days: 7\nkubernetes:\n  onprem_gpu_hourly: 1.5\n",
        3,
        "kubernetes.onprem_gpu_hourly: unknown setting (known: dcgm_selector, "
        "gpu_hourly_usd_by_label, onprem_gpu_hourly_usd, onprem_price_date, prometheus_urls)",
    ),
    (
        "kubernetes:\n  onprem_gpu_hourly_usd: cheap\n",
        2,
        "config kubernetes.onprem_gpu_hourly_usd: expected int or float",
    ),
    (
        "kubernetes:\n  gpu_hourly_usd_by_label:\n    - {label: pool}\n",
        2,
        "config kubernetes.gpu_hourly_usd_by_label[0]: expected {label: NAME",
    ),
    ("billing:\n  top_flow: 5\n", 2, "billing.top_flow: unknown setting (known: ai_services, "),
    (
        "billing:\n  top_flows: 0\n",
        2,
        "config billing.top_flows: expected a whole number of at least 1, got 0",
    ),
    ("billing:\n  owner_tag_keys: team\n", 2, "config billing.owner_tag_keys: expected a list of tag keys"),
    (
        "billing:\n  athena:\n    poll_second: 1\n",
        3,
        "config billing.athena.poll_second: unknown "
        "setting (known: workgroup, output_location, region, poll_seconds)",
    ),
    (
        "billing:\n  athena:\n    workgroup: wg\n    poll_seconds: fast\n",
        4,
        "config billing.athena.poll_seconds: expected a number of seconds from 0 to 60, got 'fast'",
    ),
    (
        "billing:\n  ai_services: /nonexistent/ai.yaml\n",
        2,
        "config billing.ai_services: /nonexistent/ai.yaml: cannot read AI services file",
    ),
    ("aws:\n  region: us-east-1\n", 2, "aws.region: unknown setting (known: profile, regions)"),
    ("gcp:\n  project: p\n", 2, "gcp.project: unknown setting (known: projects, vertex_locations)"),
]


@pytest.mark.parametrize(("body", "line", "says"), NOT_RUNNING)
def test_a_section_is_checked_whether_or_not_its_provider_runs(
    runner, tmp_path: Path, body: str, line: int, says: str
) -> None:
    message = refused(runner, tmp_path, body)
    assert f"conf.yaml:{line}: " in message and says in message, message


def test_good_sections_of_other_providers_pass(runner, tmp_path: Path) -> None:
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(
        "kubernetes:\n  onprem_gpu_hourly_usd: 1.8\n  gpu_hourly_usd_by_label:\n"
        "    - {label: pool, value: a100, gpu_hourly_usd: 2.9}\n"
        "billing:\n  top_flows: 5\n  owner_tag_keys: [team]\n  memory_limit: 2GB\n"
        "  athena: {workgroup: wg, poll_seconds: 0.5}\n  bigquery: {billing_project: p}\n"
        "aws: {regions: [us-east-1]}\ngcp: {projects: []}\n",
        encoding="utf-8",
    )
    result = run_cli(runner, "-c", str(cfg), *LLM_ONLY)
    assert result.exit_code == 3, result.output  # got as far as the missing log file


def _request(config: Config) -> ScanRequest:
    logs = LlmSettings(logs=["/nonexistent/never-read.jsonl"])
    return ScanRequest(
        options=ScanOptions(settings={"llm": logs}),
        config=config,
        rules=load_rules([], config),
        prices=PriceCatalog(),
        scanners=["llm"],
    )


def test_a_library_caller_gets_the_same_checks() -> None:
    """A Config built in code (no file, so no load-time key check): prepare still refuses."""
    config = Config(sections={"kubernetes": {"prometheus_url": "http://p:9090"}})
    with pytest.raises(RequestError, match=r"config kubernetes.prometheus_url: unknown setting"):
        prepare(_request(config))
    config = Config(sections={"billing": {"top_flows": "ten"}})
    with pytest.raises(RequestError, match=r"config billing.top_flows: expected a whole number"):
        prepare(_request(config))
    plan = prepare(_request(Config(sections={"kubernetes": {"onprem_gpu_hourly_usd": 2}})))
    assert [cls.name for cls in plan.scanners] == ["llm"]


def test_a_plugin_that_declares_keys_gets_them_checked_by_default() -> None:
    class Demo(Provider):
        name = "demo-cloud"
        config_keys = ("subscription",)

    Demo.check_section({"subscription": "s"}, None)
    with pytest.raises(
        ScannerError,
        match=r"^config demo-cloud.vms: unknown setting \(known: "
        r"subscription\)$",
    ):
        Demo.check_section({"subscription": "s", "vms": []}, None)
