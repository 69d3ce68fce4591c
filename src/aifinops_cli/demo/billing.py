"""The billing part of the demo estate: a small FOCUS export and a CUR extract, committed under
`demo/data/billing/` (see its README), scanned by the billing scanner like any local export."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_billing_paths() -> list[str]:
    """The demo's FOCUS export and CUR extract (each path is passed to --billing)."""
    base = Path(str(resources.files("aifinops_cli.demo") / "data" / "billing"))
    return [str(base / "focus_demo.csv"), str(base / "cur_demo.csv.gz")]
