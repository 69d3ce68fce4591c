"""The built-in example AI estate behind `aifinops scan --demo`: no credentials, nothing leaves the
machine.

One module per provider (aws.py and aws_ml.py seed an in-process moto account; gcp.py and k8s.py
serve their estates from the local fakes under fakes/; llm.py and billing.py name the committed
files under data/); forecast.py is the input of `aifinops forecast --demo`. Production code never
imports this package: only the CLI's `--demo` branches do, through `demo_estate` here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


def add_demo_inputs(options: ScanOptions, config: Config) -> None:
    """The demo's files: LLM request logs in several vendor formats and billing exports."""
    from aifinops_cli.demo.billing import demo_billing_paths
    from aifinops_cli.demo.llm import demo_llm_config, demo_llm_paths

    options.settings_for("llm").logs.extend(demo_llm_paths())
    options.settings_for("billing").paths.extend(demo_billing_paths())
    llm = dict(demo_llm_config())
    llm.update(config.section("llm"))  # the user's own settings win
    config.sections["llm"] = llm
    if not config.section("economics"):  # unit economics: the demo customers' plans (demo/economics.py)
        from aifinops_cli.demo.economics import demo_economics_config

        config.sections["economics"] = demo_economics_config()


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
