"""A third-party provider, installed the way pip installs one: a package folder with its provider,
scanner, rules file and catalog, and a `*.dist-info` whose entry_points.txt registers it under
`aifinops.providers` and `aifinops.scanners`. `scan -p azure` with an `azure:` config section
then finds its idle VM at the plugin catalog's price, in a fresh process that sees it only
through its package metadata (PYTHONPATH), exactly as the README's plugin example says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

SRC = ROOT / "src"

PROVIDER = """
from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption


@dataclass
class AzureSettings:
    subscription: str = ""
    vms: list[dict[str, Any]] = field(default_factory=list)


class AzureProvider(Provider):
    name = "azure"
    title = "Azure"
    description = "Azure GPU VMs"
    config_keys = ("subscription", "vms")
    rules_files = ("rules.yaml",)
    catalog_files = ("catalog.yaml",)
    options = (ProviderOption("subscription", ("--azure-subscription",), "Azure subscription id."),)

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> AzureSettings:
        return AzureSettings(subscription=values.get("subscription") or section.get("subscription", ""),
                             vms=list(section.get("vms") or []))
"""

SCANNER = """
from aifinops_cli.core.models import HOURS_PER_MONTH, CoverageEntry, Observation, ScanResult
from aifinops_cli.core.plugin import Scanner


class AzureGpuScanner(Scanner):
    name = "azure.vm"
    provider = "azure"
    description = "Azure GPU VMs and their CPU"
    kinds = ("azure.vm",)

    def scan(self) -> ScanResult:
        settings = self.context.settings("azure")
        out = []
        for vm in settings.vms:
            line = self.context.prices.line("azure.vm", vm["size"], vm["location"], HOURS_PER_MONTH,
                                            f"{vm['size']} in {vm['location']}")
            out.append(Observation(
                provider="azure", kind="azure.vm", account=settings.subscription, region=vm["location"],
                id=f"/subscriptions/{settings.subscription}/virtualMachines/{vm['name']}", name=vm["name"],
                metrics={"cpu_max_pct": vm["cpu_max_pct"]}, attributes={"size": vm["size"]},
                cost_lines=(line,) if line else ()))
        scope = f"subscription {settings.subscription}"
        return ScanResult(self.name, out, [CoverageEntry(self.name, scope, "ok", resources=len(out))])
"""

RULES = """
rules:
  - id: azure-vm-idle-gpu
    title: Idle Azure GPU VM
    description: >
      A GPU VM whose CPU stayed under the threshold all window.
    category: zombie-infrastructure
    resource: [azure.vm]
    params:
      cpu_max_pct: 5
    severity:
      default: high
    confidence: medium
    when:
      all:
        - {metric: cpu_max_pct, lt: "${cpu_max_pct}"}
    savings: {metric: monthly_cost_usd}
    evidence: [size, cpu_max_pct]
    recommendation: Deallocate the VM (az vm deallocate) or delete it.
"""

CATALOG = """
catalog: azure-plugin-test
source: "hand-written for this test"
price_date: "2026-11-01"
currency: USD
services:
  azure.vm:
    unit: hour
    prices:
      eastus:
        Standard_NC6s_v3: 3.06
        Standard_NC24ads_A100_v4: 3.673
"""

ENTRY_POINTS = """[aifinops.providers]
azure = aifinops_azure.provider:AzureProvider

[aifinops.scanners]
azure.vm = aifinops_azure.scanner:AzureGpuScanner
"""

CONFIG = """
azure:
  subscription: sub-1
  vms:
    - {name: train-1, size: Standard_NC6s_v3, location: eastus, cpu_max_pct: 1.5}
    - {name: serve-1, size: Standard_NC24ads_A100_v4, location: eastus, cpu_max_pct: 60}
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site directory holding the plugin package and its installed metadata."""
    site = tmp_path / "site"
    pkg = site / "aifinops_azure"
    pkg.mkdir(parents=True)
    for name, text in (
        ("__init__.py", ""),
        ("provider.py", PROVIDER),
        ("scanner.py", SCANNER),
        ("rules.yaml", RULES),
        ("catalog.yaml", CATALOG),
    ):
        (pkg / name).write_text(text.lstrip(), encoding="utf-8")
    dist = site / "aifinops_azure-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aifinops-azure\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    return site


def aifinops(site: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(site)]),
        "NO_COLOR": "1",
        "HOME": str(tmp_path),
        "COLUMNS": "200",
    }
    env.pop("AIFINOPS_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "aifinops_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_a_plugin_provider_scans_with_its_config_rules_and_catalog(site: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.lstrip())
    result = aifinops(
        site, tmp_path, "-q", "--config", str(config), "scan", "-p", "azure", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["scanners"] == ["azure.vm"]  # only the provider asked for: no AWS scanner ran
    assert [(c["scanner"], c["scope"], c["status"], c["resources"]) for c in doc["coverage"]["scopes"]] == [
        ("azure.vm", "subscription sub-1", "ok", 2)
    ]
    [finding] = doc["findings"]  # serve-1 is busy (60% CPU)
    assert (finding["rule_id"], finding["resource_name"], finding["account"]) == (
        "azure-vm-idle-gpu",
        "train-1",
        "sub-1",
    )
    # by hand: Standard_NC6s_v3 at 3.06 USD an hour x 730 hours a month = 2,233.80 USD
    assert finding["monthly_cost_usd"] == pytest.approx(3.06 * 730)
    assert finding["estimated_monthly_savings_usd"] == pytest.approx(2233.80)
    [line] = finding["evidence"]["cost_basis"]
    assert (line["unit_price_usd"], line["quantity"], line["source"], line["price_date"]) == (
        3.06,
        730.0,
        "azure-plugin-test",
        "2026-11-01",
    )  # the plugin catalog's name and date
    assert doc["summary"]["monthly_waste_usd"] == pytest.approx(2233.80)


def test_its_flags_help_panel_and_config_schema(site: Path, tmp_path: Path) -> None:
    helped = aifinops(site, tmp_path, "scan", "--help")
    assert helped.returncode == 0 and "Azure" in helped.stdout and "--azure-subscription" in helped.stdout

    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.lstrip())
    flag = aifinops(
        site,
        tmp_path,
        "-q",
        "--config",
        str(config),
        "scan",
        "-p",
        "azure",
        "--azure-subscription",
        "sub-2",
        "--format",
        "json",
    )
    assert flag.returncode == 0, flag.stderr
    assert json.loads(flag.stdout)["findings"][0]["account"] == "sub-2"  # the flag over the section

    config.write_text("azure:\n  subscription: sub-1\n  subscripton: typo\n")
    typo = aifinops(site, tmp_path, "-q", "--config", str(config), "scan", "-p", "azure")
    assert typo.returncode == 2 and f"{config}:3" in typo.stderr and "subscripton" in typo.stderr

    # without the plugin on the path, neither the provider nor its section is known
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": str(tmp_path)}
    env.pop("AIFINOPS_CONFIG", None)
    plain = subprocess.run(
        [sys.executable, "-m", "aifinops_cli", "-q", "scan", "-p", "azure"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert plain.returncode == 2 and "unknown provider(s) azure" in plain.stderr
