"""SageMaker and EKS scanners end to end: moto server behind the recording proxy, the real CLI,
amounts by hand, request counts, read-only calls covered by the shipped IAM policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aifinops_cli.demo.aws_ml import (
    DemoEndpoint,
    DemoNodegroup,
    DemoNotebook,
    MlEstate,
    seed_endpoints,
    seed_ml,
)
from aifinops_cli.scanners.aws import common
from aifinops_cli.scanners.aws.sagemaker import artifact_key, short_name
from tests.conftest import by_rule_and_name, run_json
from tests.fakes.aws_proxy import Fault
from tests.paths import ROOT

POLICY = ROOT / "docs" / "permissions" / "aws-iam-policy.json"
LLAMA = "s3://models-bucket/llama-3-8b/v3/model.tar.gz"

ESTATE = MlEstate(
    endpoints=[
        # the same model, three teams. Kept: the busiest, team-a (0.94 $/h x 2 x 730 h = 1,372.40)
        DemoEndpoint(
            "team-a-llm",
            {"team": "search"},
            LLAMA,
            "ml.g4dn.2xlarge",
            2,
            invocations_per_day=1200,
            age_days=40,
        ),
        # extra copy with traffic: 0.94 x 730 = 686.20
        DemoEndpoint(
            "team-b-llm",
            {"team": "support"},
            LLAMA,
            "ml.g4dn.2xlarge",
            1,
            invocations_per_day=300,
            age_days=20,
        ),
        # extra copy with no traffic: 0.736 x 730 = 537.28, claimed by the idle-endpoint rule
        DemoEndpoint(
            "team-c-llm", {"team": "labs"}, LLAMA, "ml.g4dn.xlarge", 1, invocations_per_day=0, age_days=30
        ),
        # idle and untagged: 3.825 x 730 = 2,792.25
        DemoEndpoint(
            "idle-p3",
            {},
            "s3://models-bucket/old-cv/model.tar.gz",
            "ml.p3.2xlarge",
            1,
            invocations_per_day=0,
            age_days=10,
        ),
        # idle but only 2 days old: waits
        DemoEndpoint(
            "new-idle",
            {"team": "x"},
            "s3://models-bucket/new/model.tar.gz",
            "ml.m5.xlarge",
            1,
            invocations_per_day=0,
            age_days=2,
        ),
        DemoEndpoint(
            "busy-cpu",
            {"team": "risk"},
            "s3://models-bucket/xgb/model.tar.gz",
            "ml.m5.xlarge",
            1,
            invocations_per_day=5000,
            age_days=100,
        ),
    ],
    notebooks=[
        # 3.825 x 730 = 2,792.25 a month; savings x 0.7 = 1,954.575
        DemoNotebook("nb-gpu", "ml.p3.2xlarge", {"owner": "bob"}, in_service_days=5),
        DemoNotebook("nb-fresh", "ml.t3.medium", {"owner": "ann"}, in_service_days=1),
    ],
    nodegroups=[
        # 3 x g4dn.xlarge: 0.526 x 730 x 3 = 1,151.94; GPU metrics -> high confidence
        DemoNodegroup("ml", "idle-gpu", "g4dn.xlarge", 3, {"team": "platform"}, cpu=1.0, gpu=0.5),
        # 1 x g4dn.2xlarge: 0.752 x 730 = 548.96; CPU only -> medium confidence
        DemoNodegroup("ml", "idle-gpu-nometrics", "g4dn.2xlarge", 1, {"team": "vision"}, cpu=1.5),
        DemoNodegroup("ml", "busy-gpu", "g5.xlarge", 1, {"team": "research"}, cpu=60, gpu=70),
        DemoNodegroup("ml", "system", "m5.large", 1, {"team": "platform"}, cpu=30),
    ],
)
SCANNERS = ("--scanner", "aws.sagemaker", "--scanner", "aws.eks")


@pytest.fixture
def estate(shared_estate):
    """The estate above, seeded once per worker: every test using it only scans (reads)."""
    return shared_estate("test_aws_ml", lambda: seed_ml("us-east-1", datetime.now(UTC), ESTATE))


def test_findings_and_amounts(estate, runner):
    report = run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    found = by_rule_and_name(report)
    assert set(found) == {
        "aws-sagemaker-idle-endpoint",
        "aws-sagemaker-duplicate-model",
        "aws-sagemaker-notebook-always-on",
        "aws-eks-idle-gpu-nodegroup",
    }

    idle = found["aws-sagemaker-idle-endpoint"]
    assert set(idle) == {"team-c-llm", "idle-p3"}  # new-idle is 2 days old, the rest are busy
    assert idle["idle-p3"]["monthly_cost_usd"] == pytest.approx(2792.25)
    assert idle["idle-p3"]["severity"] == "high" and idle["idle-p3"]["owner"] is None
    assert idle["team-c-llm"]["estimated_monthly_savings_usd"] == pytest.approx(537.28)
    assert idle["team-c-llm"]["evidence"]["invocations"] == 0
    basis = idle["idle-p3"]["evidence"]["cost_basis"][0]
    assert (basis["unit_price_usd"], basis["quantity"], basis["sku"]) == (
        3.825,
        730.0,
        "aws.sagemaker.hosting:ml.p3.2xlarge:us-east-1",
    )

    dup = found["aws-sagemaker-duplicate-model"]["llama-3-8b/v3"]
    assert dup["resource_kind"] == "aws.sagemaker.model_group"
    assert dup["evidence"]["kept_endpoint"] == "team-a-llm"
    assert dup["evidence"]["owners"] == ["labs", "search", "support"]
    # cost of the extra copies: 686.20 + 537.28 = 1,223.48; savings leave out the idle copy
    assert dup["monthly_cost_usd"] == pytest.approx(1223.48)
    assert dup["estimated_monthly_savings_usd"] == pytest.approx(686.20)
    assert dup["evidence"]["total_monthly_usd"] == pytest.approx(1372.40 + 686.20 + 537.28)
    assert dup["owner"] == "labs, search, support"

    nb = found["aws-sagemaker-notebook-always-on"]
    assert set(nb) == {"nb-gpu"}
    assert nb["nb-gpu"]["monthly_cost_usd"] == pytest.approx(2792.25)
    assert nb["nb-gpu"]["estimated_monthly_savings_usd"] == pytest.approx(1954.575, abs=0.006)
    assert nb["nb-gpu"]["confidence"] == "medium"  # no lifecycle config attached
    assert nb["nb-gpu"]["evidence"]["in_service_days"] >= 5

    ng = found["aws-eks-idle-gpu-nodegroup"]
    assert set(ng) == {"idle-gpu", "idle-gpu-nometrics"}
    assert ng["idle-gpu"]["monthly_cost_usd"] == pytest.approx(1151.94)
    assert ng["idle-gpu"]["confidence"] == "high" and ng["idle-gpu"]["severity"] == "high"
    assert ng["idle-gpu"]["resource_id"] == "ml/idle-gpu"
    assert ng["idle-gpu"]["evidence"]["nodes_running"] == 3
    assert ng["idle-gpu"]["evidence"]["gpu_util_max_pct"] < 5
    assert ng["idle-gpu-nometrics"]["monthly_cost_usd"] == pytest.approx(548.96)
    assert ng["idle-gpu-nometrics"]["confidence"] == "medium"

    total = 2792.25 + 537.28 + 686.20 + 1954.575 + 1151.94 + 548.96
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(total, abs=0.01)
    assert report["summary"]["by_category"]["duplicate-capability"] == pytest.approx(686.20)
    assert report["coverage"]["complete"] is True
    assert report["unpriced"] == []


def test_requests_are_batched(estate, runner):
    run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    ops = estate.recorder.operations()
    # one list per region; describes per billing endpoint (SageMaker has no batch describe)
    assert ops["ListEndpoints"] == 1 and ops["ListNotebookInstances"] == 1
    assert ops["DescribeEndpoint"] == 6
    assert ops["GetResources"] == 1  # every endpoint's and notebook's tags in one call
    assert "ListTags" not in ops
    # one GetMetricData for all SageMaker variants, one for all EKS nodes (7 nodes), never per node
    assert ops["GetMetricData"] == 2
    assert ops["ListMetrics"] == 1
    assert ops["DescribeInstances"] == 1  # the shared EC2 inventory
    # EKS is a REST API: the proxy records its paths
    assert ops["/clusters"] == 1 and ops["/clusters/ml/node-groups"] == 1  # list clusters, node groups
    assert sum(n for op, n in ops.items() if op.startswith("/clusters/ml/node-groups/")) == 4
    assert sum(ops.values()) <= 35, ops


def test_tags_denied_is_partial_not_fatal(estate, runner):
    estate.recorder.faults.append(Fault("AccessDeniedException", operation="GetResources"))
    report = run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    scope = next(s for s in report["coverage"]["scopes"] if s["scanner"] == "aws.sagemaker")
    assert scope["status"] == "partial" and "owners unknown" in scope["message"]
    found = by_rule_and_name(report)
    assert found["aws-sagemaker-idle-endpoint"]["idle-p3"]["monthly_cost_usd"] == pytest.approx(2792.25)
    # without owners, the copies cannot be told apart by team: no duplicate finding
    assert "aws-sagemaker-duplicate-model" not in found


def test_cloudwatch_denied_is_partial(estate, runner):
    estate.recorder.faults.append(Fault("AccessDenied", operation="GetMetricData"))
    report = run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    scopes = {s["scanner"]: s for s in report["coverage"]["scopes"]}
    assert scopes["aws.sagemaker"]["status"] == "partial"
    assert scopes["aws.eks"]["status"] == "partial"
    found = by_rule_and_name(report)
    # no invocations read: nothing is called idle, the notebook is still judged
    assert "aws-sagemaker-idle-endpoint" not in found
    assert "aws-eks-idle-gpu-nodegroup" not in found
    assert "nb-gpu" in found["aws-sagemaker-notebook-always-on"]


def test_artifact_key_prefers_weights_over_framework_image():
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.3"
    assert artifact_key({"PrimaryContainer": {"Image": image, "ModelDataUrl": LLAMA}}) == (
        "model_data",
        LLAMA,
    )
    hub = {"PrimaryContainer": {"Image": image, "Environment": {"HF_MODEL_ID": "meta-llama/Llama-3-8B"}}}
    assert artifact_key(hub) == ("hub_model", "meta-llama/Llama-3-8B")
    assert artifact_key({"PrimaryContainer": {"Image": "acct.dkr.ecr/own-model:7"}}) == (
        "image",
        "acct.dkr.ecr/own-model:7",
    )
    s3 = {"Containers": [{"Image": image, "ModelDataSource": {"S3DataSource": {"S3Uri": "s3://b/m/"}}}]}
    assert artifact_key(s3) == ("model_data", "s3://b/m/")
    assert artifact_key({}) is None
    assert short_name("model_data", LLAMA) == "llama-3-8b/v3"
    assert short_name("image", "acct.dkr.ecr/own-model:7") == "own-model:7"


def _policy_actions() -> set[str]:
    doc = json.loads(POLICY.read_text())
    return {a for st in doc["Statement"] if st["Effect"] == "Allow" for a in st["Action"]}


IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}


def scan_aws_calls(runner) -> set[tuple[str, str]]:
    """(IAM service prefix, operation) of every AWS call a `scan --regions us-east-1` makes, as
    botocore signs it (recorded through common.SESSION_HOOKS)."""
    seen: set[tuple[str, str]] = set()

    def hook(session):
        def record(model, **_):
            service = model.service_model.signing_name
            seen.add((IAM_PREFIX.get(service, service), model.name))

        session.events.register("before-call", record)

    common.SESSION_HOOKS.append(hook)
    try:
        run_json(runner, "scan", "--regions", "us-east-1")
    finally:
        common.SESSION_HOOKS.remove(hook)
    return seen


def test_only_read_operations_and_all_in_the_iam_policy(estate, runner):
    """A whole AWS scan (every AWS scanner) calls Describe/List/Get operations only, and each one
    is allowed by the shipped least-privilege policy (and nothing broader is granted)."""
    seen = scan_aws_calls(runner)
    ops = {op for _, op in seen}
    assert all(op.startswith(("Describe", "List", "Get")) for op in ops), sorted(ops)
    assert {
        "ListEndpoints",
        "DescribeEndpoint",
        "ListNotebookInstances",
        "GetResources",
        "ListClusters",
        "DescribeNodegroup",
        "GetMetricData",
        # issue 15: one list per region each (tests/scanners/aws/test_aws_ai.py covers the rest)
        "ListProvisionedModelThroughputs",
        "ListTrainingJobs",
        "ListProcessingJobs",
        "DescribeSnapshots",
        "DescribeImages",
        "ListApps",
        "ListInferenceComponents",
    } <= ops
    allowed = _policy_actions()
    needed = {f"{prefix}:{op}" for prefix, op in seen}
    assert needed <= allowed, sorted(needed - allowed)
    assert all(":" in a and "*" not in a for a in allowed)
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in allowed)


def test_shared_configs_and_models_are_described_once(far_end, runner):
    """40 endpoints behind 1 config: 40 DescribeEndpoint, 1 config, 1 model, 1 GetMetricData."""
    now = datetime.now(UTC)
    seed_endpoints(
        "us-east-1",
        [DemoEndpoint("base", {"team": "a"}, LLAMA, "ml.m5.xlarge", 1, invocations_per_day=10, age_days=30)],
        now,
    )
    import boto3

    sm = boto3.client("sagemaker", region_name="us-east-1")
    for n in range(39):
        sm.create_endpoint(EndpointName=f"clone-{n}", EndpointConfigName="base-config")
    far_end.recorder.calls.clear()
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.sagemaker")
    ops = far_end.recorder.operations()
    assert ops["DescribeEndpoint"] == 40
    assert ops["DescribeEndpointConfig"] == 1 and ops["DescribeModel"] == 1
    assert ops["GetMetricData"] == 1 and ops["GetResources"] == 1
    # 40 endpoints of one model: one model group, clones untagged -> 2 owners ("a", unowned);
    # 39 extra copies x 0.23 x 730 = 6,548.10
    dup = by_rule_and_name(report)["aws-sagemaker-duplicate-model"]["llama-3-8b/v3"]
    assert dup["monthly_cost_usd"] == pytest.approx(39 * 0.23 * 730)


def test_spot_node_group_priced_at_spot_prices(far_end, runner):
    spot = MlEstate(
        nodegroups=[
            DemoNodegroup(
                "ml", "idle-spot", "g4dn.xlarge", 2, {"team": "platform"}, cpu=1.0, gpu=0.5, spot=True
            )
        ]
    )
    seed_ml("us-east-1", datetime.now(UTC), spot)
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.eks")
    [f] = report["findings"]
    [line] = f["evidence"]["cost_basis"]
    # moto's Spot price is 0.00001 $/h everywhere: 2 nodes x 730 h x 0.00001 = 0.0146 (0.01 in cents)
    # instead of the on-demand 2 x 730 x 0.526 = 767.96
    assert (line["unit_price_usd"], line["quantity"], line["source"]) == (
        0.00001,
        1460.0,
        "aws-spot-price-history",
    )
    assert f["monthly_cost_usd"] == 0.01
    assert f["evidence"]["capacity_type"] == "SPOT"
