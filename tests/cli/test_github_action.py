"""The README's CI recipes as the tests run them: the composite action's `run:` scripts (action.yml),
executed as a GitHub runner executes them (bash -eo pipefail, inputs substituted into `env:`,
$GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY files), with the inputs of the README's workflow, against
a billing export; its `uses:` steps (setup-python, upload-artifact) are GitHub's own and are not run here.
The install step installs this checkout into a fresh virtual environment, as on a runner (the
dependencies come from the test's environment: no index is asked)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from aifinops_cli.core.money import usd
from tests.focus_export import HEADER, ROWS, TEAM, write_focus
from tests.paths import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
README = (ROOT / "README.md").read_text()
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
# the canonical location is defined once, in pyproject [project.urls] Repository
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
OWNER_NAME = REPOSITORY.removeprefix("https://github.com/")  # what `uses:` names
REPO_URL = f"git+{REPOSITORY}@main"


def _ci_section() -> str:
    start = README.index("### In CI: fail on new waste")
    return README[start : README.index("\n### ", start + 10)]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _ci_section(), re.S)


def _readme_action_inputs() -> dict[str, str]:
    """The `with:` of the README workflow's step that uses this action."""
    for block in _blocks("yaml"):
        doc = yaml.safe_load(block)
        for job in (doc.get("jobs") or {}).values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith(f"{OWNER_NAME}@"):
                    return {k: str(v) for k, v in step.get("with", {}).items()}
    raise AssertionError("the README's GitHub Actions recipe does not use the action")


def _inputs(overrides: dict[str, str]) -> dict[str, str]:
    declared = ACTION["inputs"]
    unknown = set(overrides) - set(declared)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    return {name: str(spec.get("default", "")) for name, spec in declared.items()} | overrides


def run_action(inputs: dict[str, str], cwd: Path, path_dirs: list[Path]) -> dict[str, Any]:
    """Every `run:` step in order, as a runner would; a step's failure ends the job except for
    the steps marked `if: always()`. Returns the step exit codes, outputs and the summary."""
    output, summary = cwd / "github_output", cwd / "step_summary"
    output.write_text("")
    summary.write_text("")
    outputs: dict[str, str] = {}
    codes: dict[str, int] = {}
    stderr: dict[str, str] = {}
    skipped: list[str] = []
    failed = False
    env_base = {
        **os.environ,
        "PATH": os.pathsep.join([*map(str, path_dirs), os.environ["PATH"]]),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "XDG_STATE_HOME": str(cwd / "state"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env_base.pop("PYTHONPATH", None)

    def expand(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr.startswith("inputs."):
                return inputs[expr.removeprefix("inputs.")]
            if expr == "github.action_path":
                return str(ROOT)
            if expr.startswith("steps.scan.outputs."):
                return outputs.get(expr.removeprefix("steps.scan.outputs."), "")
            raise AssertionError(f"an expression the test runner does not know: {expr}")

        return EXPR.sub(one, text)

    for step in ACTION["runs"]["steps"]:
        name = step.get("name") or step.get("uses")
        if "uses" in step:
            skipped.append(step["uses"])
            continue
        condition = step.get("if")
        assert condition in (None, "always()"), f"{name}: a condition the test runner does not know"
        if failed and condition != "always()":
            continue
        assert EXPR.search(step["run"]) is None, f"{name}: inputs reach scripts through env only"
        env = {**env_base, **{k: expand(str(v)) for k, v in (step.get("env") or {}).items()}}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        codes[name], stderr[name] = proc.returncode, proc.stderr
        for line in output.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
        failed = failed or proc.returncode != 0
    return {
        "codes": codes,
        "stderr": stderr,
        "outputs": outputs,
        "summary": summary.read_text(),
        "skipped": skipped,
    }


@pytest.fixture(scope="module")
def runner_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment, `python` first on PATH as setup-python leaves it; it sees this
    environment's packages through a .pth (so pip finds every dependency installed and needs no
    index) but not this checkout's editable install."""
    venv = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python3*/site-packages")
    parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "parent.pth").write_text("\n".join(parents) + "\n")
    return venv / "bin"


# The README workflow's estate, small enough to check by hand (its point is the action, not the
# estate: `scan --demo` end to end is the session demo and test_cli's second demo process). One
# FOCUS 1.0 month (tests/focus_export.py) whose AI egress is 60,000 GB to us-west-2 at $0.02:
# $1,200.00 a month, at least $1,000 so billing-ai-egress is high; it saves 80% = $960.00.
# billing-untagged-ai-spend: the untagged $500.00 endpoint of $1,000 + $1,200 + $500 = $2,700 of
# AI spend (18.5%, low), $0.00 avoidable. Headline: $960.00.
EGRESS_ROWS = [
    *ROWS[:2],
    "1200.0,1111,USD,2026-11-01,2026-10-01,Usage,$0.02 per GB data transfer to US West (Oregon),"
    "2026-10-16,2026-10-15,60000.0,GB,1200.0,1200.0,60000.0,GB,AWS,us-east-1,i-0train01,Networking,"
    f"Amazon Elastic Compute Cloud,1111,{TEAM},USE1-USW2-AWS-Out-Bytes",
    ROWS[3],
]


def test_readme_workflow_runs_the_action_on_a_billing_export(runner_venv, tmp_path, monkeypatch):
    """The README's `with:` (its missing baseline, --fail-on high, its formats) and its default
    extras, plus a billing export for the estate."""
    readme = _readme_action_inputs()
    export = tmp_path / "cur" / "focus-2026-10.csv"
    export.parent.mkdir()
    export.write_text("\n".join([HEADER, *EGRESS_ROWS]) + "\n")
    args = f"{readme['args']} --billing {shlex.quote(str(export))} --billing-format focus"
    inputs = _inputs({**readme, "args": args})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip's spelling of --no-build-isolation
    ran = run_action(inputs, tmp_path, [runner_venv])
    codes, outputs, stderr = ran["codes"], ran["outputs"], ran["stderr"]
    assert codes["install aifinops"] == 0, stderr["install aifinops"]
    assert (runner_venv / "aifinops").exists()  # installed from the checkout, not the editable copy
    assert codes["scan"] == 0, stderr["scan"]  # the scan step records, the gate decides
    # no baseline committed yet: the notice names the command; every high finding is new
    assert "aifinops baseline create --output .aifinops/baseline.json" in " ".join(stderr["scan"].split())
    assert outputs == {"exit-code": "1"}
    assert codes["gate"] == 1  # the job fails, after the summary step ran
    out = tmp_path / inputs["output-dir"]
    assert sorted(p.name for p in out.iterdir()) == [
        "aifinops-report.html",
        "aifinops-report.json",
        "aifinops-report.md",
        "aifinops-report.xml",
    ]
    report = json.loads((out / "aifinops-report.json").read_text())
    found = {f["rule_id"]: f for f in report["findings"]}
    assert set(found) == {"billing-ai-egress", "billing-untagged-ai-spend"}
    egress = found["billing-ai-egress"]
    assert egress["severity"] == "high" and egress["status"] == "new"
    assert egress["monthly_cost_usd"] == pytest.approx(60000 * 0.02)
    assert egress["estimated_monthly_savings_usd"] == pytest.approx(60000 * 0.02 * 0.8)
    assert found["billing-untagged-ai-spend"]["estimated_monthly_savings_usd"] == 0.0
    # the summary is the Markdown report, whose headline is the $960.00 worked out above
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(960.0)
    assert ran["summary"] == (out / "aifinops-report.md").read_text()
    assert ran["summary"].startswith("# AI fragmentation-tax report")
    assert f"**{usd(60000 * 0.02 * 0.8)} per month**" in ran["summary"]
    assert ran["skipped"] == ["actions/setup-python@v5", "actions/upload-artifact@v4"]


@pytest.fixture
def path_aifinops(tmp_path) -> Path:
    """`aifinops` and `python3` already on PATH (a self-hosted runner, the image): `install: false`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aifinops").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m aifinops_cli "$@"\n')
    (bin_dir / "python3").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def test_args_are_split_as_a_shell_would_and_the_cost_gate_decides(path_aifinops, tmp_path):
    """A path with spaces and quotes in `args`; markdown is added to `formats`; the $16.00 of
    new savings (1,000 GB x $0.02 x 80%) passes a $20 gate and fails a $10 one."""
    export = write_focus(tmp_path / "my exports" / "focus 2026-10.csv")
    args = f"--billing {shlex.quote(str(export))} --billing-format focus"
    base = {"args": args, "formats": "json", "install": "false", "artifact-name": ""}
    passed = run_action(_inputs({**base, "fail-on-cost": "20"}), tmp_path, [path_aifinops])
    assert passed["codes"]["install aifinops"] == 0
    assert passed["outputs"] == {"exit-code": "0"} and passed["codes"]["gate"] == 0
    report = tmp_path / "aifinops-reports"
    assert sorted(p.name for p in report.iterdir()) == ["aifinops-report.json", "aifinops-report.md"]
    found = json.loads((report / "aifinops-report.json").read_text())["findings"]
    assert sum(f["estimated_monthly_savings_usd"] for f in found) == 16.0
    tripped = run_action(_inputs({**base, "fail-on-cost": "10"}), tmp_path, [path_aifinops])
    assert tripped["outputs"] == {"exit-code": "1"} and tripped["codes"]["gate"] == 1
    assert "--fail-on-cost $10.00" in tripped["stderr"]["scan"]
    assert "**$16.00 per month**" in tripped["summary"]


def test_a_usage_error_still_writes_a_summary_and_fails_with_exit_2(path_aifinops, tmp_path):
    ran = run_action(
        _inputs({"args": "--format-typo", "install": "false", "formats": "json"}), tmp_path, [path_aifinops]
    )
    assert ran["outputs"] == {"exit-code": "2"} and ran["codes"]["gate"] == 2
    assert ran["summary"] == "aifinops wrote no Markdown report (see the scan step's log)\n"


def test_readme_install_lines_name_the_repository():
    """No index serves aifinops yet: every recipe installs from the repository (one URL), and
    that requirement resolves to this project with its extras when the URL is this checkout."""
    lines = [line.strip().removeprefix("- ") for block in _blocks("yaml") for line in block.splitlines()]
    installs = [line for line in lines if "pip install" in line]
    assert installs == [f'python3 -m pip install "aifinops[all] @ {REPO_URL}"']
    assert "pip install aifinops\n" not in README and "run: pip install aifinops" not in README
    spec = installs[0].split('"')[1].replace(REPO_URL, ROOT.as_uri())
    offline = ["--dry-run", "--no-deps", "--no-index", "--no-build-isolation", "--report", "-", "-q"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", *offline, spec], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    (item,) = json.loads(proc.stdout)["install"]
    assert item["metadata"]["name"] == "aifinops" and item["requested_extras"] == ["all"]


def test_every_mention_of_the_repository_is_the_canonical_one():
    """README, docs/ and action.yml name the repository as pyproject's [project.urls] Repository
    (a URL, a `git+` URL or a `uses: owner/name@ref`): one place, and no stale copy elsewhere."""
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", REPOSITORY), REPOSITORY
    texts = {
        p: p.read_text() for p in [ROOT / "README.md", ROOT / "action.yml", *(ROOT / "docs").glob("*.md")]
    }
    found = {u for t in texts.values() for u in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", t)}
    urls = {u for u in found if "aifinops" in u.lower()}  # not the libraries the docs link to
    uses = {u for t in texts.values() for u in re.findall(r"uses:\s*([\w.-]+/[\w.-]+)@", t)}
    assert urls == {REPOSITORY}, urls
    # GitHub's own actions are the only other `uses:` a recipe names
    assert {u for u in uses if not u.startswith(("actions/", "aws-actions/", "google-github-actions/"))} == {
        OWNER_NAME
    }, uses
    assert "canonical location" in README and REPOSITORY in README
