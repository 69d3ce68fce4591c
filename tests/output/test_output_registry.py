"""The output-format registry (output/__init__.py): entry-point group `aifinops.formats`, built-ins
registered in our pyproject exactly as a plugin registers its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from aifinops_cli.core.registry import FORMAT_GROUP as GROUP
from aifinops_cli.output import formatters
from aifinops_cli.output.base import Formatter
from tests.paths import ROOT

LOG = ROOT / "tests" / "data" / "llm" / "openai_chat.jsonl"  # one OpenAI chat completion


def test_builtin_formats_come_from_the_pyproject_entry_points():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    found = formatters()
    builtin = [
        "csv", "economics-csv", "html", "json", "junit", "markdown", "observations", "openmetrics", "table"
    ]  # fmt: skip
    assert sorted(declared) == list(found) == builtin
    for name, cls in found.items():
        assert issubclass(cls, Formatter) and cls.name == name
        assert declared[name] == f"{cls.__module__}:{cls.__qualname__}"
    # the file names --output-dir writes: aifinops-report.<extension>
    assert {n: c.extension for n, c in found.items()} == {
        "csv": "csv",
        "economics-csv": "economics.csv",
        "html": "html",
        "json": "json",
        "junit": "xml",
        "markdown": "md",
        "observations": "observations.jsonl",
        "openmetrics": "prom",
        "table": "txt",
    }


PLUGIN = """
from aifinops_cli.core.money import usd
from aifinops_cli.output.base import Formatter


class YamlFormatter(Formatter):
    name = "yaml"
    extension = "yaml"
    description = "a test plugin"

    def render(self, report):
        waste = sum(f.estimated_monthly_savings_usd for f in report.active_findings)
        return f"observations: {report.observations_count}\\nmonthly_waste: {usd(waste)}\\n"


class NotAFormatter:
    name = "bad"
"""


def _plugin(tmp_path: Path, entry: str) -> dict[str, str]:
    """A throwaway distribution on PYTHONPATH: one module and a dist-info naming its entry point."""
    site = tmp_path / "site"
    (site / "aifinops_test_fmt-1.0.dist-info").mkdir(parents=True)
    (site / "yamlfmt.py").write_text(PLUGIN)
    (site / "aifinops_test_fmt-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: aifinops-test-fmt\nVersion: 1.0\n"
    )
    (site / "aifinops_test_fmt-1.0.dist-info" / "entry_points.txt").write_text(f"[{GROUP}]\n{entry}\n")
    path = [str(site), os.environ.get("PYTHONPATH", ""), str(ROOT / "src")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def _scan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aifinops_cli", "-q", "scan", "--llm-logs", str(LOG), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_a_plugin_format_is_chosen_by_name_beside_the_builtins(tmp_path):
    env = _plugin(tmp_path, "yaml = yamlfmt:YamlFormatter")
    out = tmp_path / "out"
    proc = _scan(env, "--format", "json,yaml", "--output-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "aifinops-report.json").read_text())
    # the same run in the plugin's format: its one observation, and the JSON's total ($0.00: one
    # ordinary request is no waste) as core/money writes it
    assert doc["observations"] == 1 and doc["summary"]["monthly_waste_usd"] == 0.0
    assert (out / "aifinops-report.yaml").read_text() == "observations: 1\nmonthly_waste: $0.00\n"


def test_a_broken_format_plugin_is_one_line_naming_its_package(tmp_path):
    proc = _scan(_plugin(tmp_path, "bad = yamlfmt:NotAFormatter"), "--format", "json")
    assert proc.returncode == 2
    assert proc.stderr == (
        "aifinops: error: format entry point 'bad' from aifinops-test-fmt is not a "
        "Formatter subclass (exit 2: usage or input error, nothing scanned)\n"
    )
