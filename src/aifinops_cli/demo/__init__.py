"""The built-in example AI estate behind `aifinops scan --demo`: no credentials, nothing leaves the
machine.

One module per provider (aws.py and aws_ml.py seed an in-process moto account; gcp.py and k8s.py
serve their estates from the local fakes under fakes/; llm.py and billing.py write the LLM logs and
billing exports of the demo's window, `demo_window`, at demo time); forecast.py is the input of
`aifinops forecast --demo`. Production code never imports this package: only the CLI's `--demo`
branches do, through `demo_estate` here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from aifinops_cli.core.config import Config
from aifinops_cli.core.plugin import ScanOptions

INSTALL_HINT = "pip install 'aifinops[demo]'"


class DemoUnavailable(Exception):
    """A library the demo runs on is not installed (moto, which fakes the AWS account)."""


def require_moto() -> None:
    """moto is in the `demo` and `dev` extras, not in the base install: say which extra to add."""
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise DemoUnavailable(
            f"the demo runs in an in-process fake AWS account and needs moto, "
            f"which is not installed: {INSTALL_HINT}"
        ) from exc


WINDOW_DAYS = 30


def demo_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The demo's logs and bills: the 30 whole UTC days before today. When those 30 days are
    exactly one calendar month (June 1-30 seen on July 1), a day earlier: a billing reader bills a
    whole month as one month, not 30/30.42 of one, and the demo's figures would change that day."""
    today = (now or datetime.now(UTC)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=WINDOW_DAYS)
    if start.day == 1 and (today - timedelta(days=1)).month == start.month:
        today, start = today - timedelta(days=1), start - timedelta(days=1)
    return start, today


def _generator_digest() -> str:
    """Changes when the generators do, so a cached demo input is never stale."""
    h = hashlib.sha256()
    for name in ("llm.py", "billing.py", "economics.py"):
        h.update((resources.files("aifinops_cli.demo") / name).read_bytes())
    return h.hexdigest()[:10]


def demo_inputs(now: datetime | None = None) -> Path:
    """The folder holding the demo's LLM logs (`llm/`), billing exports (`billing/`) and plans
    (`economics/`) for the
    window of `now`, generated on first use (2-3 seconds) and then reused for the day.

    It is named by the window and the generators, not random, so a scan's finding ids (which
    name input files) are the same in every demo run of a day. Written to a private folder and
    renamed into place: concurrent demos never read a half-written file."""
    from aifinops_cli.demo import economics
    from aifinops_cli.demo.billing import write_billing
    from aifinops_cli.demo.llm import write_demo

    start, end = demo_window(now)
    base = Path(tempfile.gettempdir()) / f"aifinops-demo-{os.getuid() if hasattr(os, 'getuid') else 0}"
    final = base / f"{end:%Y%m%d}-{_generator_digest()}"
    if (final / "complete").exists():
        return final
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=base))
    try:
        bedrock = write_demo(work / "llm", start, end)
        write_billing(work / "billing", start.date(), bedrock)
        economics.write_demo(work / "economics")
        (work / "complete").write_text(f"{start.isoformat()} {end.isoformat()}\n", encoding="utf-8")
        with contextlib.suppress(OSError):  # another demo got there first: its files are the same
            os.rename(work, final)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    _forget_old(base, keep=final)
    return final


def _forget_old(base: Path, keep: Path, days: float = 2.0) -> None:
    """Remove other days' demo inputs (about 60 MB each) once they are a couple of days old."""
    cutoff = time.time() - days * 86400
    for old in base.iterdir():
        with contextlib.suppress(OSError):
            if old != keep and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)


def add_demo_inputs(options: ScanOptions, config: Config) -> None:
    """The demo's files: LLM request logs in several vendor formats and billing exports."""
    from aifinops_cli.demo.billing import demo_billing_paths
    from aifinops_cli.demo.llm import demo_llm_config, demo_llm_paths

    root = demo_inputs()
    options.settings_for("llm").logs.extend(demo_llm_paths(root / "llm"))
    options.settings_for("billing").paths.extend(demo_billing_paths(root / "billing"))
    llm = dict(demo_llm_config())
    llm.update(config.section("llm"))  # the user's own settings win
    config.sections["llm"] = llm
    if not config.section("economics"):  # unit economics: the demo customers' plans (demo/economics.py)
        from aifinops_cli.demo.economics import demo_economics_config

        config.sections["economics"] = demo_economics_config(root / "economics")


@contextmanager
def demo_estate(options: ScanOptions, config: Config) -> Iterator[None]:
    """Point every provider of `options` at the demo estate for the duration of the block: the
    seeded moto AWS account, the demo's log and billing files, then the local fakes of the Compute
    Engine, Monitoring and Kubernetes APIs. Raises DemoUnavailable before anything starts when moto
    is missing."""
    require_moto()
    from aifinops_cli.demo.aws import demo_aws, karpenter_node_ids
    from aifinops_cli.demo.gcp import demo_gcp
    from aifinops_cli.demo.k8s import demo_k8s

    with demo_aws(options):
        add_demo_inputs(options, config)
        with demo_gcp(options), demo_k8s(options, provider_ids=karpenter_node_ids()):
            yield
