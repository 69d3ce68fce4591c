"""Baselines: a previous JSON report whose findings count as known, so CI fails on new waste only."""

from __future__ import annotations

import json
from pathlib import Path

from aifinops_cli.core.models import Finding
from aifinops_cli.core.yamlsrc import SourceError


def load_fingerprints(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(str(path), None, "", f"cannot read baseline: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(str(path), exc.lineno, "", f"baseline is not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or "findings" not in data:
        raise SourceError(str(path), None, "", "not an aifinops JSON report (no `findings`)")
    return {str(f.get("fingerprint")) for f in data["findings"] if isinstance(f, dict)}


def apply_baseline(findings: list[Finding], known: set[str]) -> None:
    for f in findings:
        f.status = "known" if f.fingerprint in known else "new"
