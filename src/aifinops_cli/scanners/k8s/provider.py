"""The Kubernetes provider: its `scan` flags, its `kubernetes:` config section (keys and value
checks) and its typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption, ScannerError


@dataclass
class K8sSettings:
    contexts: list[str] = field(default_factory=list)  # none: the kubeconfig's current context
    prometheus_url: str | None = None
    kubeconfig: str | None = None  # else $KUBECONFIG, else ~/.kube/config
    in_cluster: bool = False  # the pod's service account instead of a kubeconfig


# the `kubernetes:` section: each key and the types its value may have
SETTINGS: dict[str, tuple[type, ...]] = {
    "onprem_gpu_hourly_usd": (int, float),
    "onprem_price_date": (str,),
    "gpu_hourly_usd_by_label": (list,),
    "prometheus_urls": (dict,),
    "dcgm_selector": (str,),
}


def check_settings(settings: dict[str, Any]) -> None:
    """The `kubernetes` config section: known keys with the right types, or one clear error."""
    for key, value in settings.items():
        if key not in SETTINGS:
            known = ", ".join(sorted(SETTINGS))
            raise ScannerError(f"config kubernetes.{key}: unknown setting (known: {known})")
        if not isinstance(value, SETTINGS[key]) or isinstance(value, bool):
            wanted = " or ".join(t.__name__ for t in SETTINGS[key])
            raise ScannerError(f"config kubernetes.{key}: expected {wanted}")
    for n, rule in enumerate(settings.get("gpu_hourly_usd_by_label") or []):
        if (
            not isinstance(rule, dict)
            or "label" not in rule
            or not isinstance(rule.get("gpu_hourly_usd"), int | float)
        ):
            raise ScannerError(
                f"config kubernetes.gpu_hourly_usd_by_label[{n}]: expected "
                "{label: NAME, value: VALUE (optional), gpu_hourly_usd: NUMBER}"
            )


class K8sProvider(Provider):
    name = "k8s"
    title = "Kubernetes"
    description = "GPU nodes and pods in any cluster, cloud or on-prem (DCGM via Prometheus)"
    client_modules = ("kubernetes",)
    extra = "k8s"
    section = "kubernetes"
    config_keys = tuple(sorted(SETTINGS))
    options = (
        ProviderOption(
            "contexts", ("--kube-context",), "kubeconfig context (repeatable).", kind="list", split=True
        ),
        ProviderOption("prometheus_url", ("--prometheus-url",), "Prometheus with DCGM exporter metrics."),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> K8sSettings:
        return K8sSettings(contexts=values.get("contexts") or [], prometheus_url=values.get("prometheus_url"))

    @classmethod
    def in_play(cls, settings: K8sSettings) -> bool:
        return bool(settings.contexts)

    @classmethod
    def check_section(cls, section: dict[str, Any], settings: K8sSettings) -> None:
        check_settings(section)

    # its scopes are kubeconfig contexts (or the pod's own cluster); what a failure means is said
    # in scanners/k8s/cluster.py (imported only when a scan fans out)
    scope_kind = "context"
    failures = "aifinops_cli.scanners.k8s.cluster"

    @classmethod
    def scope_label(cls, name: str) -> str:
        return f"context {name}"
