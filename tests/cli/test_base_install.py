"""typer >= 0.26 carries its own copy of click and no longer installs click: the CLI must not import
`click` itself, or a base `pip install aifinops` fails at start-up with a ModuleNotFoundError.

click is made unimportable for a real `aifinops` process (`sys.modules["click"] = None` before the
CLI's own `main` runs, as on a machine where nothing else installed it); nothing of ours is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aifinops_cli

PACKAGE = Path(aifinops_cli.__file__).parent
WITHOUT_CLICK = (
    "import sys; sys.modules['click'] = None; sys.argv[0] = 'aifinops'; "
    "from aifinops_cli.cli.app import main; main()"
)


def _aifinops_without_click(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "NO_COLOR": "1", "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_CLICK, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_cli_runs_without_click(tmp_path: Path) -> None:
    proc = _aifinops_without_click(tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    assert aifinops_cli.__version__ in proc.stdout


def test_an_error_still_maps_to_its_exit_code_without_click(tmp_path: Path) -> None:
    # a config error raised below a command reaches the root group's error mapping
    # (cli/common.ErrorMappingGroup, whose context type came from click): one line, exit 2
    (tmp_path / "bad.yaml").write_text("lookbak_days: 3\n", encoding="utf-8")
    proc = _aifinops_without_click(tmp_path, "--config", "bad.yaml", "rules", "list")
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("aifinops: error: bad.yaml:1: lookbak_days: unknown setting"), line
    assert line.endswith("(exit 2: usage or input error, nothing scanned)")
