"""`rules list`, `rules show` and `rules validate` load the installed providers' own rules files
(Provider.rule_paths) as a scan does: a third-party provider's rule is listed, can be tuned in the
config's `rules:` section, and is validated (at its file:line) by `rules validate` with no path.
The plugin is the throwaway package of tests/core/test_plugin_provider.py, seen through its metadata."""

from __future__ import annotations

import json
from pathlib import Path

from tests.core.test_plugin_provider import RULES, aifinops, site  # noqa: F401  (site is a fixture)


def test_rules_list_and_show_include_a_plugins_rules(site: Path, tmp_path: Path) -> None:  # noqa: F811
    listed = aifinops(site, tmp_path, "rules", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rules = {r["id"]: r for r in json.loads(listed.stdout)}
    rule = rules["azure-vm-idle-gpu"]
    assert rule["resource"] == ["azure.vm"] and rule["params"] == {"cpu_max_pct": 5}
    assert rule["origin"].startswith(str(site / "aifinops_azure" / "rules.yaml"))
    assert "aws-ec2-idle-gpu" in rules  # the bundled ones are still there

    shown = aifinops(site, tmp_path, "rules", "show", "azure-vm-idle-gpu")
    assert shown.returncode == 0 and "applies to: azure.vm" in shown.stdout


def test_a_plugins_rule_can_be_tuned_in_the_config(site: Path, tmp_path: Path) -> None:  # noqa: F811
    """Before: `rules list` did not load the plugin's rules, so this config was refused
    (exit 2, "no rule with this id") although `scan` accepted it."""
    config = tmp_path / "config.yaml"
    config.write_text("rules:\n  azure-vm-idle-gpu:\n    params: {cpu_max_pct: 2.5}\n")
    listed = aifinops(site, tmp_path, "--config", str(config), "rules", "list", "-f", "json")
    assert listed.returncode == 0, listed.stderr
    [rule] = [r for r in json.loads(listed.stdout) if r["id"] == "azure-vm-idle-gpu"]
    assert rule["params"] == {"cpu_max_pct": 2.5}


def test_rules_validate_checks_every_installed_providers_rules(
    site: Path,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    ok = aifinops(site, tmp_path, "rules", "validate")
    assert ok.returncode == 0, ok.stderr
    own = site / "aifinops_azure" / "rules.yaml"
    plain = aifinops(tmp_path / "no-plugins", tmp_path, "rules", "validate")
    bundled = int(plain.stdout.split()[1])
    assert ok.stdout.startswith(f"ok: {bundled + 1} rules valid in the bundled rules, {own}")

    # a misspelled key in the plugin's own rules file: refused at that file's line
    own.write_text(RULES.lstrip().replace("    confidence: medium", "    confidense: medium"))
    bad = aifinops(site, tmp_path, "rules", "validate")
    assert bad.returncode == 2, bad.stdout
    assert f"{own}:" in bad.stderr and "confidense" in bad.stderr
