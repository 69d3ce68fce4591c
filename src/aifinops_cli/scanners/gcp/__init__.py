"""Google Cloud scanners: `gcp.compute` (GPU instances, unattached disks) and `gcp.gke` (GPU node
pools). Application Default Credentials; `--gcp-project` (repeatable) or every active project the
credentials can see. Endpoint overrides for emulators, tests and the demo: `$AIFINOPS_GCP_ENDPOINT`
(or `GcpSettings.endpoints[""]`), per service `$AIFINOPS_GCP_{COMPUTE,MONITORING,CONTAINER,
RESOURCEMANAGER}_ENDPOINT`. Roles needed: docs/permissions/gcp-roles.md.
"""
