"""Visibility coverage: how much of the AI data path this scan could actually see.

A report that finds $3,000 a month of idle GPUs says nothing about the LLM API bill it never
read. This module scores a scan against the five places AI money goes (cloud GPU instances,
clusters including on-prem, LLM APIs, billing and egress, storage) from which scanners ran and
which of their scopes succeeded, and lists the blind spots with what to pass to close them.

Scoring (pure, no I/O):
- a scanner's fraction is its scopes scanned ok (partial counts half) over the scopes it tried;
  skipped scopes (e.g. regions not enabled) are left out; a scanner with none tried counts 0;
- an area's score is the mean of the fractions of the scanners that cover it (each provider is
  its own blind spot, so a failed GCP project is not drowned by seventeen good AWS regions);
  an area no scanner covers scores 0;
- the overall score is the mean of the five areas, x100. The weights are equal on purpose: any one
  of them can hide most of an AI bill.

A scanner says which areas it covers with an optional class attribute
`visibility = ("gpu_compute", ...)`; without one, areas are inferred from its provider and the
resource kinds it declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aifinops_cli.core.models import CoverageEntry


@dataclass(frozen=True)
class Area:
    id: str
    title: str
    hint: str  # what to pass to see it


AREAS: tuple[Area, ...] = (
    Area(
        "gpu_compute",
        "Cloud GPU instances",
        "scan each cloud you run GPUs in: --provider aws / --gcp-project PROJECT",
    ),
    Area(
        "clusters",
        "GPU clusters (Kubernetes, on-prem)",
        "--kube-context CONTEXT for clusters, --prometheus-url URL for DCGM metrics on-prem",
    ),
    Area(
        "llm_apis",
        "LLM API usage",
        "--llm-logs PATH with request logs (OpenAI, Anthropic, Bedrock, LiteLLM, OTel)",
    ),
    Area(
        "billing_egress", "Billing and egress", "--billing PATH with a FOCUS, AWS CUR or GCP billing export"
    ),
    Area(
        "storage",
        "Storage (volumes, disks, buckets)",
        "run the storage scanners (e.g. aws.ebs) for every provider you use",
    ),
)
AREA_IDS = tuple(a.id for a in AREAS)

_STORAGE_WORDS = ("volume", "disk", "bucket", "snapshot", "s3", "gcs", "storage", "efs", "fsx", "filestore")
_COMPUTE_WORDS = (
    "instance",
    "compute",
    "gpu",
    "vm",
    "accelerator",
    "tpu",
    "notebook",
    "sagemaker",
    "endpoint",
)
_EGRESS_WORDS = ("egress", "nat", "transfer", "bandwidth")
_CLUSTER_PROVIDERS = ("k8s", "kubernetes", "prometheus", "dcgm", "onprem", "slurm")
_CLUSTER_WORDS = ("eks", "gke", "aks", "nodegroup", "node_pool", "nodepool", "cluster")


def areas_of(
    name: str, provider: str, kinds: Iterable[str], declared: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The data-path areas one scanner covers (declared, else inferred)."""
    if declared:
        return tuple(a for a in declared if a in AREA_IDS)
    p = provider.lower()
    words = " ".join([name.lower(), *(k.lower() for k in kinds)])
    if p == "llm" or name.lower().startswith("llm"):
        return ("llm_apis",)
    if p == "billing" or name.lower().startswith("billing"):
        return ("billing_egress",)
    if p in _CLUSTER_PROVIDERS or name.lower().startswith(_CLUSTER_PROVIDERS):
        return ("clusters",)
    found = []
    if any(w in words for w in _CLUSTER_WORDS):
        found.append("clusters")
    elif any(w in words for w in _COMPUTE_WORDS):
        found.append("gpu_compute")
    if any(w in words for w in _STORAGE_WORDS):
        found.append("storage")
    if any(w in words for w in _EGRESS_WORDS):
        found.append("billing_egress")
    return tuple(found)


def scanner_fraction(entries: Sequence[CoverageEntry]) -> tuple[float, int, int]:
    """(fraction seen, scopes ok, scopes tried) for one scanner's coverage entries."""
    tried = [c for c in entries if c.status != "skipped"]
    if not tried:
        return 0.0, 0, 0
    ok = sum(1 for c in tried if c.status == "ok")
    partial = sum(1 for c in tried if c.status == "partial")
    return (ok + 0.5 * partial) / len(tried), ok, len(tried)


def assess(scanners: Iterable[Any], coverage: Sequence[CoverageEntry]) -> dict[str, Any]:
    """Score the scan. `scanners` are scanner classes (or anything with name, provider, kinds)."""
    by_scanner: dict[str, list[CoverageEntry]] = {}
    for c in coverage:
        by_scanner.setdefault(c.scanner, []).append(c)
    members: dict[str, list[dict[str, Any]]] = {a: [] for a in AREA_IDS}
    for cls in scanners:
        name = str(cls.name)
        covered = areas_of(
            name,
            str(getattr(cls, "provider", "")),
            getattr(cls, "kinds", ()) or (),
            getattr(cls, "visibility", None),
        )
        frac, ok, tried = scanner_fraction(by_scanner.get(name, []))
        failed = [c for c in by_scanner.get(name, []) if c.status in ("failed", "partial")]
        for area_id in covered:
            members[area_id].append(
                {"scanner": name, "fraction": frac, "scopes_ok": ok, "scopes_tried": tried, "failed": failed}
            )
    areas_out = []
    raw: list[float] = []
    blind: list[str] = []
    for area in AREAS:
        ms = members[area.id]
        score = sum(m["fraction"] for m in ms) / len(ms) if ms else 0.0
        status = "seen" if ms and score >= 0.999 else "partial" if score > 0 else "blind"
        raw.append(score)
        areas_out.append(
            {
                "id": area.id,
                "title": area.title,
                "score": round(score * 100),
                "status": status,
                "scanners": [m["scanner"] for m in ms],
                "scopes_ok": sum(m["scopes_ok"] for m in ms),
                "scopes_tried": sum(m["scopes_tried"] for m in ms),
            }
        )
        if not ms:
            blind.append(f"{area.title}: not scanned; {area.hint}")
            continue
        for m in ms:
            if m["scopes_tried"] == 0:
                blind.append(f"{area.title}: {m['scanner']} scanned nothing")
            for c in m["failed"]:
                why = f": {c.message}" if c.message else ""
                blind.append(f"{area.title}: {m['scanner']} {c.scope} {c.status}{why}")
    return {
        "score": round(sum(raw) / len(raw) * 100),
        "method": "mean of five equally weighted areas; an area is the mean over its scanners "
        "of scopes ok (partial = half) / scopes tried",
        "areas": areas_out,
        "blind_spots": blind,
    }
