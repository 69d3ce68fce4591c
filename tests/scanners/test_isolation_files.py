"""Isolation for local inputs: a directory that can be listed but not searched (mode r--, no x),
or a file that cannot be read, is one coverage line; the readable files beside it are scanned.

The machine runs the tests as root, which no permission bit stops, so the scan runs in a child
process that drops to uid/gid 65534 (nobody) once it has run the same scan as root (which loads
every lazily imported module, as the interpreter's stdlib is under /root, unreadable to nobody)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

CUR = ROOT / "tests" / "data" / "billing" / "cur_legacy.csv"
NOBODY = 65534

# One Bedrock InvokeModel record: claude-3-haiku, 1,000 input and 200 output tokens
REC = {
    "schemaType": "ModelInvocationLog",
    "schemaVersion": "1.0",
    "timestamp": "2026-10-05T12:00:00Z",
    "accountId": "123456789012",
    "region": "us-east-1",
    "requestId": "b1",
    "operation": "InvokeModel",
    "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
    "requestMetadata": {"team": "platform"},
    "input": {"inputContentType": "application/json", "inputTokenCount": 1000},
    "output": {"outputContentType": "application/json", "outputTokenCount": 200},
}

CHILD = r"""
import os, sys
from typer.testing import CliRunner
from aifinops_cli.cli.app import app, main
args = sys.argv[1:]
home = os.environ["HOME"]
# as root first: every module the scan imports is loaded now (its history kept apart), and
# every module of rich and of our package, for the paths only nobody's scan takes (warnings)
CliRunner().invoke(app, args, env={"AIFINOPS_STATE_DIR": os.path.join(home, "state-root")})
import importlib, pkgutil, rich, aifinops_cli
for pkg in (rich, aifinops_cli):
    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if mod.name.endswith("__main__"):  # it would run the scan, as root
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:
            pass
os.setgroups([]); os.setgid(NOBODY); os.setuid(NOBODY)
os.environ["AIFINOPS_STATE_DIR"] = os.path.join(home, "state-nobody")
sys.argv = ["aifinops", *args]
main()  # the console script's entry point; running the module would read __main__.py, which
# nobody cannot when the checkout is under a root-only directory such as /root
""".replace("NOBODY", str(NOBODY))


@pytest.fixture
def tree() -> Iterator[Path]:
    """A directory nobody can reach (pytest's tmp_path is under a root-only directory)."""
    top = Path(tempfile.mkdtemp(prefix="aifinops-perm-", dir="/tmp"))
    top.chmod(0o777)
    yield top
    for dirpath, dirnames, _ in os.walk(top):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(top)


def scan_as_nobody(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # the package and the default rules run from a copy nobody can read: the checkout may be under
    # a root-only directory (/root), and the scan reads rules and price catalogs at run time
    src = home / "src"  # a source checkout's rules are beside src/ (core.rules.default_rules_dir)
    if not src.exists():
        shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "rules", home / "rules")
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "HOME": str(home),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, cwd=home, timeout=300
    )


def lock_up(directory: Path) -> None:
    """Readable but not searchable: its names can be listed, no entry in it can be opened."""
    directory.chmod(0o444)


def test_llm_logs_beside_an_unsearchable_directory(tree: Path) -> None:
    logs = tree / "logs"
    (logs / "locked").mkdir(parents=True)
    (logs / "good.jsonl").write_text("".join(json.dumps(REC) + "\n" for _ in range(3)))
    (logs / "locked" / "secret.jsonl").write_text(json.dumps(REC) + "\n")
    (logs / "private.jsonl").write_text(json.dumps(REC) + "\n")
    (logs / "private.jsonl").chmod(0o600)  # root's file: nobody may not read it
    lock_up(logs / "locked")
    result = scan_as_nobody(tree, "scan", "--llm-logs", str(logs), "--format", "json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    scopes = {s["scope"]: s for s in report["coverage"]["scopes"]}
    assert scopes[str(logs / "good.jsonl")]["status"] == "ok"
    locked = scopes[str(logs / "locked")]
    assert locked["status"] == "failed" and "not searchable" in locked["message"]
    private = scopes[str(logs / "private.jsonl")]
    assert private["status"] == "failed" and "not readable" in private["message"]
    summary = report["analysis"]["llm"]["summary"]
    assert summary["requests"] == 3  # only good.jsonl's three records
    # claude-3-haiku on Bedrock, $0.25 / $1.25 per 1M tokens:
    # (1000 x 0.25 + 200 x 1.25) / 1e6 = $0.0005 a record, x 3 = $0.0015
    assert summary["computed cost USD"] == pytest.approx(3 * (1000 * 0.25 + 200 * 1.25) / 1e6)


def test_billing_file_beside_an_unsearchable_directory(tree: Path) -> None:
    bills = tree / "bills"
    (bills / "locked").mkdir(parents=True)
    shutil.copy(CUR, bills / "cur.csv")
    (bills / "cur.csv").chmod(0o644)
    shutil.copy(CUR, bills / "locked" / "cur-2.csv")
    lock_up(bills / "locked")
    result = scan_as_nobody(tree, "scan", "--billing", str(bills), "--format", "json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    scopes = {s["scope"]: s for s in report["coverage"]["scopes"]}
    locked = scopes[str(bills / "locked")]
    assert locked["status"] == "failed" and "not searchable" in locked["message"]
    assert scopes[str(bills / "cur.csv")]["status"] == "partial"  # its one bad-cost row, as always
    summary = report["analysis"]["billing"]["summary"]
    # cur_legacy.csv alone, not twice: transfer out 1,000 GB inter-region x $0.02 = $20
    # + 500 GB inter-zone x $0.01 = $5 + 100 GB internet x $0.09 = $9 + 200 GB NAT x $0.045 = $9
    assert summary["Data transfer out (USD)"] == pytest.approx(
        1000 * 0.02 + 500 * 0.01 + 100 * 0.09 + 200 * 0.045
    )
    assert summary["Billed total (USD)"] == pytest.approx(3770.0)  # the file's 8 usable rows
