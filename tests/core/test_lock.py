"""The run lock with two real processes, and the other unattended-run options (log file,
timestamped file names)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aifinops_cli.core.exitcodes import ExitCode
from aifinops_cli.core.lock import LockHeld, run_lock
from tests.conftest import run_cli

HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from aifinops_cli.core.lock import run_lock
    with run_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        sys.stdin.read()  # hold until the test closes our stdin
""")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AIFINOPS_STATE_DIR", None)
    env["HOME"] = str(tmp_path / "home")  # nothing from the developer's own setup
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture
def holder(tmp_path):
    """A second process holding the lock on tmp_path/state until the test is done."""
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield state, proc
    if proc.poll() is None:
        proc.stdin.close()
        proc.wait(timeout=30)


def test_second_scan_process_refuses_with_exit_5(holder, tmp_path):
    state, proc = holder
    log = tmp_path / "aifinops.log"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aifinops_cli",
            "scan",
            "--record",
            "--state-dir",
            str(state),
            "--log-file",
            str(log),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert result.returncode == ExitCode.LOCKED == 5
    assert result.stdout == ""  # nothing that breaks machine output
    assert f"another aifinops run holds {state / 'scan.lock'} (pid {proc.pid} on " in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "ERROR aifinops.run" in log.read_text() and "holds" in log.read_text()

    # the lock is per state dir and opt-out: --no-lock goes on (to the next check: bad provider)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aifinops_cli",
            "scan",
            "--record",
            "--no-lock",
            "--state-dir",
            str(state),
            "--provider",
            "azure",
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert result.returncode == ExitCode.USAGE and "unknown provider" in result.stderr


def test_lock_is_freed_when_the_holder_dies(holder):
    """flock belongs to the process: a killed cron run never leaves a stale lock."""
    state, proc = holder
    with pytest.raises(LockHeld), run_lock(state):
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with run_lock(state) as path:
        assert path.read_text().startswith(f"pid {os.getpid()} on ")


def test_in_process_cli_refuses_too(holder, runner):
    state, _ = holder
    result = run_cli(runner, "scan", "--lock", "--state-dir", str(state))
    assert result.exit_code == 5 and "another aifinops run holds" in result.stderr


def test_log_file_and_timestamped_names(far_end, runner, tmp_path):
    log = tmp_path / "logs" / "aifinops.log"
    out = tmp_path / "out"
    result = run_cli(
        runner,
        "-q",
        "scan",
        "--regions",
        "us-east-1",
        "--scanner",
        "aws.ebs",
        "--record",
        "--state-dir",
        str(tmp_path / "state"),
        "--log-file",
        str(log),
        "--timestamped",
        "--format",
        "json,markdown",
        "--output-dir",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # -q: nothing on stderr, all of it in the log
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2
    for name, ext in zip(names, ("json", "md"), strict=True):
        assert re.fullmatch(rf"aifinops-report-\d{{8}}T\d{{6}}Z\.{ext}", name), name
    text = log.read_text()
    for words in (
        "scan starting",
        "holding the run lock",
        "recorded run 1",
        f"wrote {out}",
        "scan finished: $0.00/month in 0 findings (0 suppressed), exit 0",
    ):
        assert words in text, text
