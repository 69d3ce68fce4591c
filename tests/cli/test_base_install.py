"""typer >= 0.26 carries its own copy of click and no longer installs click: the CLI must not import
`click` itself, or a base `pip install aifinops` fails at start-up with a ModuleNotFoundError.

click is made unimportable for a real `aifinops` process (`sys.modules["click"] = None` before the
CLI's own `main` runs, as on a machine where nothing else installed it); nothing of ours is mocked.
"""

from __future__ import annotations

from pathlib import Path

import aifinops_cli
from tests.conftest import run_without


def test_cli_runs_without_click(tmp_path: Path) -> None:
    proc = run_without("click", tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    assert aifinops_cli.__version__ in proc.stdout


def test_an_error_still_maps_to_its_exit_code_without_click(tmp_path: Path) -> None:
    # a config error raised below a command reaches the root group's error mapping
    # (cli/common.ErrorMappingGroup, whose context type came from click): one line, exit 2
    (tmp_path / "bad.yaml").write_text("lookbak_days: 3\n", encoding="utf-8")
    proc = run_without("click", tmp_path, "--config", "bad.yaml", "rules", "list")
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("aifinops: error: bad.yaml:1: lookbak_days: unknown setting"), line
    assert line.endswith("(exit 2: usage or input error, nothing scanned)")
