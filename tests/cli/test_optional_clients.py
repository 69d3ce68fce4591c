"""A provider whose client library is not installed is skipped with the pip command, not a crash.

The library is made unimportable for a real `aifinops` process (a `sitecustomize` on its path
blocks the import, as on a machine where the extra was never installed); nothing of ours is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT

SRC = ROOT / "src"

BLOCKER = """
import importlib.abc, sys
class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "kubernetes" or name.startswith("kubernetes."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Missing())
"""


def test_missing_kubernetes_client_is_skipped(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    # this checkout's sources after the blocker: a relative PYTHONPATH would not survive the cwd
    path = [str(site), str(SRC), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "NO_COLOR": "1",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aifinops_cli",
            "scan",
            "--kube-context",
            "prod",
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr
    # nothing could be scanned: exit 3, as for missing credentials
    assert proc.returncode == 3, proc.stderr
    report = json.loads(out.read_text())
    [scope] = report["coverage"]["scopes"]
    assert (scope["scanner"], scope["status"]) == ("k8s.gpu", "skipped")
    assert "pip install 'aifinops[k8s]'" in scope["message"]
    assert "skipped: k8s.gpu" in proc.stderr
