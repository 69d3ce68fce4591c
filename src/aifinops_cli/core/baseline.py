"""Baselines: a previous JSON report whose findings count as known, so CI fails on new waste only."""

from __future__ import annotations

import json
from pathlib import Path

from aifinops_cli.core.models import Finding
from aifinops_cli.core.yamlsrc import SourceError

MAX_BASELINE_BYTES = 2 * 1024 * 1024 * 1024  # a 100,000-finding report is ~200 MB


def load_fingerprints(path: Path) -> set[str]:
    """The fingerprints of a JSON report; anything else is a SourceError (exit 2), never a crash."""
    where = str(path)
    try:
        if path.is_dir():
            raise SourceError(where, None, "", "cannot read baseline: is a directory")
        if path.stat().st_size > MAX_BASELINE_BYTES:
            raise SourceError(where, None, "", "baseline larger than 2 GiB: refused")
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(where, None, "", f"cannot read baseline: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(where, line, "", "baseline is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise SourceError(where, exc.lineno, "", f"baseline is not JSON: {exc.msg}") from None
    except RecursionError:
        raise SourceError(where, None, "", "baseline is not an aifinops report: nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise SourceError(where, None, "", "not an aifinops JSON report (no `findings` list)")
    return {
        str(f["fingerprint"])
        for f in data["findings"]
        if isinstance(f, dict) and isinstance(f.get("fingerprint"), str)
    }


def apply_baseline(findings: list[Finding], known: set[str]) -> None:
    """Known: its fingerprint is in the baseline, or a former one is (a baseline written before
    its id stopped naming an input file still matches while that file keeps its path)."""
    for f in findings:
        former = any(fp in known for fp in f.former_fingerprints)
        f.status = "known" if f.fingerprint in known or former else "new"
