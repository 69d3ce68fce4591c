"""The price-list reads are read-only and granted by the documented permissions.

AWS: a scan with live prices calls `GetProducts` (a Get*, as the read-only rule requires) and the
IAM policy grants `pricing:GetProducts`. GCP: the Cloud Billing Catalog is read with GET only and
docs/permissions/gcp-roles.md says what it needs (no role).
"""

from __future__ import annotations

import json

from aifinops_cli.scanners.aws import common
from tests.conftest import run_json
from tests.paths import ROOT
from tests.pricing.test_pricing_aws import priced  # noqa: F401 - fixture
from tests.pricing.test_pricing_gcp import _scan, apis  # noqa: F401 - fixture

DOCS = ROOT / "docs" / "permissions"
POLICY = DOCS / "aws-iam-policy.json"
ROLES = DOCS / "gcp-roles.md"


def test_price_list_call_is_a_read_granted_by_the_policy(priced, runner):  # noqa: F811
    seen: list[str] = []

    def hook(session):
        session.events.register("before-call", lambda model, **_: seen.append(model.name))

    common.SESSION_HOOKS.append(hook)
    try:
        run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.ec2")
    finally:
        common.SESSION_HOOKS.remove(hook)
    assert "GetProducts" in seen
    assert all(op.startswith(("Describe", "List", "Get")) for op in seen), sorted(set(seen))
    actions = {a for st in json.loads(POLICY.read_text())["Statement"] for a in st["Action"]}
    assert "pricing:GetProducts" in actions


def test_billing_catalog_read_needs_no_role_and_is_documented(apis):  # noqa: F811
    _scan(apis)
    # only GETs of the public SKU list (the fake records POSTs as "aws")
    assert apis.count("gcp") == 3 and apis.count("aws") == 0
    text = ROLES.read_text()
    assert "services.skus.list" in text and "cloudbilling.googleapis.com" in text
