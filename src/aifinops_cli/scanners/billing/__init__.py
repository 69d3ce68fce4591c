"""Billing exports: FOCUS, AWS CUR (legacy and 2.0) and GCP, locally or in Athena/BigQuery."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_billing_paths() -> list[str]:
    """The demo's small FOCUS export and CUR extract (for `aifinops scan --demo`)."""
    base = Path(str(resources.files("aifinops_cli.demo") / "data" / "billing"))
    return [str(base / "focus_demo.csv"), str(base / "cur_demo.csv.gz")]


__all__ = ["demo_billing_paths"]
