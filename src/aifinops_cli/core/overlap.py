"""One machine, one charge: findings from different providers that price the same machine.

An EKS node is an EC2 instance and a Kubernetes node; a GKE node is a Compute Engine instance
and a Kubernetes node. When the cloud scanner and the Kubernetes scanner both flag it, the
fragmentation tax must count its money once. Each observation lists the machines whose price is
in its cost (`Observation.covers`, keys built here); `mark_overlaps` then walks the counted
findings from the widest (a node group covering many machines) and the largest saving down, and
marks a finding whose machines were all already counted by another provider's finding. It stays
in the report, with `overlaps` naming the finding that counts the money, but adds nothing to the
totals.

Findings of the same provider are never marked: within one provider the rules are written not
to overlap (EKS nodes are judged per node group, not per instance) or cover disjoint parts of a
machine (a pod's GPUs and a node's unrequested GPUs).
"""

from __future__ import annotations

from collections.abc import Iterable

from aifinops_cli.core.models import Finding


def aws_instance(instance_id: str) -> str:
    return f"aws:ec2:{instance_id}"


def gce_instance(project: str, zone: str, name: str) -> str:
    return f"gcp:compute:{project}/{zone}/{name}"


def from_provider_id(provider_id: str) -> str | None:
    """A Kubernetes node's `spec.providerID` as a machine key, for the clouds we price.

    `aws:///us-east-1a/i-0abc` (EKS, kOps, Karpenter) and `gce://project/zone/name` (GKE).
    """
    if provider_id.startswith("aws://"):
        last = provider_id.rstrip("/").rsplit("/", 1)[-1]
        return aws_instance(last) if last.startswith("i-") else None
    if provider_id.startswith("gce://"):
        parts = provider_id[len("gce://") :].strip("/").split("/")
        return gce_instance(*parts) if len(parts) == 3 and all(parts) else None
    return None


def mark_overlaps(findings: Iterable[Finding]) -> None:
    """Set `overlaps` on counted findings whose machines another provider's finding counts."""
    items = list(findings)
    for f in items:
        f.overlaps = ""
    candidates = [f for f in items if not f.suppressed and f.observation.covers]
    candidates.sort(
        key=lambda f: (
            -len(set(f.observation.covers)),
            -f.estimated_monthly_savings_usd,
            f.observation.provider,
            f.fingerprint,
        )
    )
    counted: dict[str, Finding] = {}
    for f in candidates:
        keys = set(f.observation.covers)
        owners = [counted.get(k) for k in keys]
        if all(o is not None and o.observation.provider != f.observation.provider for o in owners):
            first = min((o for o in owners if o is not None), key=lambda o: o.fingerprint)
            f.overlaps = first.fingerprint
            continue
        for k in keys:
            counted.setdefault(k, f)
