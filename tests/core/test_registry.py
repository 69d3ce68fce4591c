"""Which scanners a scan imports: only the providers in play, plus plugins we cannot place."""

from __future__ import annotations

import subprocess
import sys

from aifinops_cli.core.registry import entry_names, for_providers, load_scanners
from tests.paths import ROOT


def test_provider_filter() -> None:
    wanted = for_providers({"llm", "billing"})
    assert [n for n in entry_names() if wanted(n)] == ["billing", "llm"]
    assert wanted("acme.mainframe")  # a third-party provider: loaded and asked
    assert not wanted("aws.ec2") and not wanted("k8s.gpu")
    assert set(load_scanners(wanted)) == {"billing", "llm"}


def test_llm_scan_does_not_import_cloud_clients(tmp_path) -> None:
    log = tmp_path / "requests.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-mini", '
        '"input_tokens": 10, "output_tokens": 5}\n',
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom aifinops_cli.cli.app import main\n"
        f"sys.argv = ['aifinops', '-q', 'scan', '--llm-logs', {str(log)!r}, '--format', 'json', "
        f"'--output', {str(tmp_path / 'r.json')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "clients = ('boto3', 'kubernetes', 'google.cloud.compute_v1')\n"
        "print(sorted(m for m in clients if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "r.json").exists()


def test_builtin_providers_are_registered_like_plugins() -> None:
    """The five built-ins come from the `aifinops.providers` entry points of our own pyproject,
    and each one's scanners are the scanner entry points named after it."""
    import tomllib

    from aifinops_cli.core.registry import load_providers, provider_names

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())
    group = declared["project"]["entry-points"]["aifinops.providers"]
    assert provider_names() == sorted(group) == ["aws", "billing", "gcp", "k8s", "llm"]
    providers = load_providers()
    assert {name: f"{cls.__module__}:{cls.__name__}" for name, cls in providers.items()} == group
    assert {n.split(".")[0] for n in entry_names()} == set(providers)
    assert {cls.section_name() for cls in providers.values()} == {
        "aws",
        "gcp",
        "kubernetes",
        "llm",
        "billing",
    }


def test_provider_flags_sit_in_their_own_help_panels(runner) -> None:
    from tests.conftest import run_cli

    result = runner.invoke(
        __import__("aifinops_cli.cli.app", fromlist=["app"]).app,
        ["scan", "--help"],
        env={"COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert result.exit_code == 0
    panels = {}
    current = ""
    for line in result.stdout.splitlines():
        if line.startswith("╭─"):
            current = line.strip("╭─╮ ").strip()
        elif line.startswith("│ --"):
            panels.setdefault(current, []).append(line.split()[1])
    assert panels["AWS"] == ["--profile", "--regions"]
    assert panels["Google Cloud"] == ["--gcp-project", "--gcp-vertex-location"]
    assert panels["Kubernetes"] == ["--kube-context", "--prometheus-url"]
    assert panels["LLM logs"] == ["--llm-logs", "--llm-log-format", "--show-prompts"]
    assert panels["Billing exports"] == ["--billing", "--billing-format"]
    assert "--regions" not in panels["What to scan"] and "--demo" in panels["What to scan"]
    assert run_cli(runner, "scan", "--provider", "nope").exit_code == 2


def test_a_provider_config_section_is_its_typed_settings_and_a_typo_exits_2(runner, tmp_path) -> None:
    from aifinops_cli.core.config import load_config
    from aifinops_cli.core.pipeline import ScanRequest, prepare
    from aifinops_cli.core.plugin import ScanOptions
    from aifinops_cli.core.rules import load_rules
    from aifinops_cli.pricing.catalog import PriceCatalog
    from tests.conftest import run_cli

    cfg = tmp_path / "aifinops.yaml"
    cfg.write_text("aws:\n  profile: prod\n  regions: eu-west-1, eu-central-1\ngcp:\n  projects: [p1]\n")
    config = load_config(cfg)
    options = ScanOptions()
    plan = prepare(
        ScanRequest(
            options=options,
            config=config,
            rules=load_rules([], config),
            prices=PriceCatalog(),
            scanners=["gcp.compute"],
        )
    )
    aws, gcp = options.settings["aws"], options.settings["gcp"]
    assert (aws.profile, aws.regions, gcp.projects) == ("prod", ["eu-west-1", "eu-central-1"], ["p1"])
    assert [cls.name for cls in plan.scanners] == ["gcp.compute"]

    cfg.write_text("gcp:\n  projects: [p1]\n  project: p2\n")
    result = run_cli(runner, "--config", str(cfg), "scan", "-p", "gcp")
    assert result.exit_code == 2 and f"{cfg}:3" in result.stderr and "gcp.project" in result.stderr
