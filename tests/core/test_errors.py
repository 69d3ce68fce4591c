"""One error base class carrying its exit code (errors.py), and the CLI mapping it to one line.

Every expected error a user can fix subclasses AifinopsError; the root command group turns any of
them into `aifinops: error: MESSAGE (exit N: MEANING)` and exit N, never a traceback; any other
exception stays a bug (exit 4, cli/app.py main)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.cli.common import ErrorMappingGroup, OutputPathError
from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.core.history import HistoryError
from aifinops_cli.core.lock import LockHeld
from aifinops_cli.core.plugin import ScannerError
from aifinops_cli.core.registry import PluginLoadError
from aifinops_cli.core.yamlsrc import SourceError
from aifinops_cli.errors import AifinopsError
from aifinops_cli.forecasting.model import ForecastUnavailable
from aifinops_cli.pricing.gcp_live import CatalogError
from aifinops_cli.scanners.billing.sources import SourceProblem
from aifinops_cli.scanners.k8s.prometheus import PrometheusError


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (SourceError, 2),
        (HistoryError, 2),
        (ScannerError, 2),
        (PluginLoadError, 2),
        (OutputPathError, 2),
        (ForecastUnavailable, 2),
        (SourceProblem, 2),
        (PrometheusError, 2),
        (CatalogError, 2),
        (LockHeld, 5),
    ],
)
def test_every_expected_error_is_an_aifinops_error_with_its_exit_code(cls, code):
    assert issubclass(cls, AifinopsError)
    assert cls.exit_code == code


def test_subclasses_keep_their_own_shape():
    err = SourceError("rules.yaml", 7, "rules[2].when", "unknown operator 'eq'")
    assert str(err) == "rules.yaml:7: rules[2].when: unknown operator 'eq'" and err.exit_code == 2
    held = LockHeld(Path("/s/scan.lock"), "pid 42")
    assert held.exit_code == ExitCode.LOCKED and "pid 42" in str(held)
    assert isinstance(ForecastUnavailable("no statsmodels"), ImportError)  # `except ImportError` still works
    one_off = AifinopsError("no scope", exit_code=ExitCode.SCAN_FAILED)
    assert one_off.exit_code == 3 and AifinopsError.exit_code == 2  # the raise's own, not the class's


def _app_raising(exc: Exception) -> typer.Typer:
    """A two-command app on the same root group as `aifinops` (two, so typer keeps the group)."""
    demo = typer.Typer(cls=ErrorMappingGroup)

    @demo.command()
    def boom() -> None:
        raise exc

    @demo.command()
    def other() -> None:
        pass

    return demo


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (
            LockHeld(Path("/s/scan.lock"), "pid 42"),
            5,
            "aifinops: error: another aifinops run holds /s/scan.lock (pid 42); not starting a second one "
            "(exit 5: another run holds the lock, nothing scanned)\n",
        ),
        (
            SourceError("a.yaml", 3, "", "bad\x1b[2Jvalue"),
            2,  # a control sequence in data is dropped
            "aifinops: error: a.yaml:3: badvalue (exit 2: usage or input error, nothing scanned)\n",
        ),
        (
            AifinopsError("nothing reachable", exit_code=ExitCode.SCAN_FAILED),
            3,
            "aifinops: error: nothing reachable (exit 3: no scope could be scanned)\n",
        ),
    ],
)
def test_the_root_group_maps_an_error_to_its_line_and_code(exc, code, line):
    result = CliRunner().invoke(_app_raising(exc), ["boom"])
    assert result.exit_code == code
    assert result.stderr == line
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


def test_a_bug_is_not_mapped():
    result = CliRunner().invoke(_app_raising(KeyError("x")), ["boom"])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)  # main() makes it exit 4


def test_history_error_from_a_real_command(tmp_path):
    """`aifinops history` lets HistoryError rise (no try/fail of its own): exit 2, one line."""
    result = CliRunner().invoke(app, ["history", "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"aifinops: error: no history at {tmp_path / 'history.sqlite'}: ")
    assert result.stderr.endswith("(exit 2: usage or input error, nothing scanned)\n")
    assert result.stderr.count("\n") == 1


def test_config_error_through_the_console_script(tmp_path):
    """The installed entry point (cli/app.py main), as cron runs it: file:line, exit 2, no traceback."""
    bad = tmp_path / "aifinops.yaml"
    bad.write_text("history:\n  path: [1, 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "aifinops_cli", "-c", str(bad), "history"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"aifinops: error: {bad}:3: invalid YAML")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
