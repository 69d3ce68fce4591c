"""The GCP scans only read, and the custom role in docs/permissions/gcp-roles.md covers every
call they make."""

from __future__ import annotations

import re

import yaml

from aifinops_cli.demo.fakes.gcp import serve
from aifinops_cli.scanners.gcp.compute import GcpComputeScanner
from aifinops_cli.scanners.gcp.gke import GkeGpuNodePoolScanner
from tests.paths import ROOT
from tests.scanners.gcp.test_gcp_ai import SCANNERS as AI_SCANNERS
from tests.scanners.gcp.test_gcp_ai import _context as ai_context
from tests.scanners.gcp.test_gcp_ai import build_ai_estate
from tests.scanners.gcp.test_gcp_scan import _context, build_estate

DOC = ROOT / "docs" / "permissions" / "gcp-roles.md"
PERMISSION_OF = (
    (r"/compute/v1/projects/[^/]+/aggregated/instances", "compute.instances.list"),
    (r"/compute/v1/projects/[^/]+/aggregated/disks", "compute.disks.list"),
    (r"/v3/projects/[^/]+/timeSeries", "monitoring.timeSeries.list"),
    (r"/v1/projects/[^/]+/locations/-/clusters", "container.clusters.list"),
    (r"/v3/projects:search", "resourcemanager.projects.get"),
    (r"/compute/v1/projects/[^/]+/global/snapshots", "compute.snapshots.list"),
    (r"/compute/v1/projects/[^/]+/global/images", "compute.images.list"),
    (r"/v1/projects/[^/]+/locations/[^/]+/endpoints", "aiplatform.endpoints.list"),
    (r"/v2/projects/[^/]+/locations/-/nodes", "tpu.nodes.list"),
    (r"/v2/projects/[^/]+/locations/-/instances", "notebooks.instances.list"),
)


def _custom_role() -> set[str]:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert block
    return set(yaml.safe_load(block.group(1))["includedPermissions"])


def test_gcp_calls_are_reads_covered_by_the_custom_role() -> None:
    role = _custom_role()
    assert all(p.rsplit(".", 1)[1] in ("list", "get") for p in role)
    estate = build_estate()
    with serve(estate) as url:
        GcpComputeScanner(_context(url)).scan()  # discovers projects too
        GkeGpuNodePoolScanner(_context(url)).scan()
    ai = build_ai_estate()
    with serve(ai) as url:
        for scanner in AI_SCANNERS:  # Vertex AI, TPU, Workbench, snapshots and images
            scanner(ai_context(url)).scan()
    assert estate.calls and ai.calls
    used = set()
    for method, path, _ in estate.calls + ai.calls:
        assert method == "GET", path
        permission = next((perm for rx, perm in PERMISSION_OF if re.fullmatch(rx, path)), None)
        assert permission is not None, f"call not in the permissions table: {path}"
        used.add(permission)
    assert used == role
