"""The Kubernetes scan is read-only and the shipped ClusterRole allows exactly what it does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from aifinops_cli.demo.fakes.k8s import FakeK8s, serve, write_kubeconfig
from aifinops_cli.scanners.k8s.scanner import KubernetesGpuScanner
from tests.paths import ROOT
from tests.scanners.k8s.test_k8s_scan import _context, build_estate

ROLE = ROOT / "docs" / "permissions" / "k8s-clusterrole.yaml"


def _allowed() -> set[tuple[str, str, str]]:
    docs = [d for d in yaml.safe_load_all(ROLE.read_text()) if d]
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role")]
    assert roles
    out = set()
    for role in roles:
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
            out |= {(g, r, v) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    return out


def test_scan_uses_only_what_the_clusterrole_allows(tmp_path: Path) -> None:
    allowed = _allowed()
    estate: FakeK8s = build_estate()
    with serve(estate) as url:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url, ["prod"])
        KubernetesGpuScanner(_context(kubeconfig, ["prod"], None)).scan()
    api = [(m, p) for m, p, _ in estate.calls if p.startswith("/clusters/")]
    assert api
    for method, path in api:
        assert method == "GET"
        m = re.fullmatch(r"/clusters/[^/]+/(?:api/v1|apis/([^/]+)/v1)/([a-z]+)", path)
        assert m, path  # collection paths only: list, never a per-object get
        assert ((m.group(1) or ""), m.group(2), "list") in allowed, path
