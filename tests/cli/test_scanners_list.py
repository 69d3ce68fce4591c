"""`aifinops scanners list` lists the providers too: each one's help panel, config section, its
scanners and whether its optional client library is installed (else the extra to install), in
the table and in `--format json`. The missing library is made unimportable for a real process
(a `sitecustomize` blocks the import), as in tests/cli/test_optional_clients.py; nothing of ours is
mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aifinops_cli.core.plugin import Provider
from tests.cli.test_optional_clients import BLOCKER
from tests.conftest import run_cli
from tests.paths import ROOT

SRC = ROOT / "src"
BUILT_IN = {  # name: (help panel, section, scanners, extra)
    "aws": (
        "AWS",
        "aws",
        [
            "aws.bedrock",
            "aws.ebs",
            "aws.ec2",
            "aws.eks",
            "aws.sagemaker",
            "aws.sagemaker_components",
            "aws.sagemaker_jobs",
            "aws.sagemaker_studio",
            "aws.snapshots",
        ],
        None,
    ),
    "billing": ("Billing exports", "billing", ["billing"], None),
    "gcp": (
        "Google Cloud",
        "gcp",
        ["gcp.compute", "gcp.gke", "gcp.images", "gcp.tpu", "gcp.vertex", "gcp.workbench"],
        "gcp",
    ),
    "k8s": ("Kubernetes", "kubernetes", ["k8s.gpu"], "k8s"),
    "llm": ("LLM logs", "llm", ["llm"], "llm"),
}


def test_json_lists_providers_and_scanners(runner) -> None:
    doc = json.loads(run_cli(runner, "scanners", "list", "--format", "json").stdout)
    providers = {p["name"]: p for p in doc["providers"]}
    assert set(BUILT_IN) <= set(providers)
    for name, (panel, section, scanners, extra) in BUILT_IN.items():
        p = providers[name]
        assert (p["panel"], p["section"], p["scanners"], p["extra"]) == (panel, section, scanners, extra)
        assert p["installed"] is True and p["missing"] == [] and p["install"] is None  # the dev venv
    assert providers["k8s"]["options"] == ["--kube-context", "--prometheus-url"]
    assert {n: p["scope"] for n, p in providers.items() if n in BUILT_IN} == {
        "aws": "region",
        "billing": "file",
        "gcp": "project",
        "k8s": "context",
        "llm": "file",
    }
    assert "onprem_gpu_hourly_usd" in providers["k8s"]["config_keys"]
    # every scanner is under exactly one provider
    listed = sorted(s for p in doc["providers"] for s in p["scanners"])
    assert listed == sorted(s["name"] for s in doc["scanners"])


def test_table_shows_panels_sections_and_clients(runner) -> None:
    out = run_cli(runner, "scanners", "list").stdout
    assert "5 providers" in out or "providers (entry points: aifinops.providers)" in out
    for text in ("Google Cloud", "kubernetes:", "installed ([k8s])", "base install", "aws.ebs"):
        assert text in out, text


def test_a_missing_client_library_names_its_extra(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(SRC)]),
        "NO_COLOR": "1",
        "COLUMNS": "250",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "aifinops_cli", "scanners", "list", "-f", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    providers = {p["name"]: p for p in json.loads(proc.stdout)["providers"]}
    k8s = providers["k8s"]
    assert (k8s["installed"], k8s["missing"], k8s["install"]) == (
        False,
        ["kubernetes"],
        "pip install 'aifinops[k8s]'",
    )
    assert providers["gcp"]["installed"] is True  # only kubernetes is blocked
    table = subprocess.run(
        [sys.executable, "-m", "aifinops_cli", "scanners", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    ).stdout
    assert "missing kubernetes: pip install 'aifinops[k8s]'" in table


def test_missing_clients_are_looked_up_not_imported() -> None:
    class Plugin(Provider):
        name = "plugin-x"
        client_modules = ("json", "aifinops_no_such_client", "aifinops_no_such_pkg.sub")
        extra = "x"

    assert Plugin.missing_clients() == ["aifinops_no_such_client", "aifinops_no_such_pkg.sub"]


def test_unknown_format_is_exit_2(runner) -> None:
    result = run_cli(runner, "scanners", "list", "--format", "yaml")
    assert result.exit_code == 2 and "'table', 'json', 'markdown'" in result.stderr


def test_markdown_lists_what_json_lists(runner) -> None:
    """`--format markdown` (the one list of formats, cli/common.py): a providers table and a
    scanners table, one row for each entry of the JSON, in the same order."""
    doc = json.loads(run_cli(runner, "scanners", "list", "--format", "json").stdout)
    text = run_cli(runner, "scanners", "list", "--format", "markdown").stdout
    providers, scanners = text.split(f"# {len(doc['scanners'])} scanners")
    assert providers.startswith(f"# {len(doc['providers'])} providers")

    def names(part: str) -> list[str]:
        rows = [line for line in part.splitlines() if line.startswith("| ") and "---" not in line]
        return [r.split(" | ")[0].removeprefix("| ") for r in rows[1:]]

    assert names(providers) == [p["name"] for p in doc["providers"]]
    assert names(scanners) == [s["name"] for s in doc["scanners"]]
