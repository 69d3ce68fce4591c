"""The Kubernetes provider: its `scan` flags and typed settings (config section `kubernetes:`,
checked by the k8s.gpu scanner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption


@dataclass
class K8sSettings:
    contexts: list[str] = field(default_factory=list)  # none: the kubeconfig's current context
    prometheus_url: str | None = None
    kubeconfig: str | None = None  # else $KUBECONFIG, else ~/.kube/config
    in_cluster: bool = False  # the pod's service account instead of a kubeconfig


class K8sProvider(Provider):
    name = "k8s"
    title = "Kubernetes"
    description = "GPU nodes and pods in any cluster, cloud or on-prem (DCGM via Prometheus)"
    section = "kubernetes"
    options = (
        ProviderOption("contexts", ("--kube-context",), "kubeconfig context (repeatable).", kind="list",
                       split=True),
        ProviderOption("prometheus_url", ("--prometheus-url",), "Prometheus with DCGM exporter metrics."),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> K8sSettings:
        return K8sSettings(contexts=values.get("contexts") or [],
                           prometheus_url=values.get("prometheus_url"))

    @classmethod
    def in_play(cls, settings: K8sSettings) -> bool:
        return bool(settings.contexts)
