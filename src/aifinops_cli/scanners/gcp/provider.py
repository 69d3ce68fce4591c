"""The Google Cloud provider: its `scan` flags, its `gcp:` config section and its typed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aifinops_cli.core.plugin import Provider, ProviderOption, split_list


@dataclass
class GcpSettings:
    projects: list[str] = field(default_factory=list)  # none: every project the credentials list
    # API endpoints by service ("" for all services; compute, monitoring, container,
    # resourcemanager, aiplatform, tpu, notebooks, cloudbilling), as the demo and the tests'
    # fake servers set them
    endpoints: dict[str, str] = field(default_factory=dict)
    live_prices: bool | None = None  # None: config pricing.live, else the Cloud Billing Catalog
    # the regions whose Vertex AI endpoints are listed (the API has no all-locations list);
    # empty: DEFAULT_VERTEX_LOCATIONS
    vertex_locations: list[str] = field(default_factory=list)


# where Vertex AI online prediction runs most: one endpoints.list per project and region
DEFAULT_VERTEX_LOCATIONS = (
    "us-central1",
    "us-east1",
    "us-east4",
    "us-west1",
    "europe-west1",
    "europe-west4",
    "asia-northeast1",
    "asia-southeast1",
)


class GcpProvider(Provider):
    name = "gcp"
    title = "Google Cloud"
    description = (
        "Compute Engine GPU instances, disks, images and snapshots, GKE GPU node pools, "
        "Vertex AI endpoints and Workbench instances, TPU VMs"
    )
    client_modules = (
        "google.cloud.compute_v1",
        "google.cloud.container_v1",
        "google.cloud.resourcemanager_v3",
    )
    extra = "gcp"
    config_keys = ("projects", "vertex_locations")
    options = (
        ProviderOption(
            "projects", ("--gcp-project",), "Google Cloud project (repeatable).", kind="list", split=True
        ),
        ProviderOption(
            "vertex_locations",
            ("--gcp-vertex-location",),
            "Region whose Vertex AI endpoints are read (repeatable; default: 8 common regions).",
            kind="list",
            split=True,
        ),
    )

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> GcpSettings:
        return GcpSettings(
            projects=values.get("projects") or split_list(section.get("projects")),
            vertex_locations=values.get("vertex_locations") or split_list(section.get("vertex_locations")),
        )

    @classmethod
    def in_play(cls, settings: GcpSettings) -> bool:
        return bool(settings.projects)

    # its scopes are projects; what a failure means is said in scanners/gcp/common.py (imported
    # only when a scan fans out: this module imports no cloud client)
    scope_kind = "project"
    failures = "aifinops_cli.scanners.gcp.common"

    @classmethod
    def scope_label(cls, name: str) -> str:
        return f"project {name}"
