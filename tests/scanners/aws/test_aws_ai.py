"""Bedrock Provisioned Throughput, SageMaker jobs in progress, and snapshots/AMIs left by GPU
instances: moto server (Bedrock PT added to it by demo/fakes/aws_extra.py) behind the recording
proxy, the real CLI, amounts by hand, request counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifinops_cli.demo.aws import DemoLeftover, seed_leftovers
from aifinops_cli.demo.aws_ml import (
    DemoComponent,
    DemoEndpoint,
    DemoJob,
    DemoProvisioned,
    DemoStudioApp,
    MlEstate,
    seed_bedrock,
    seed_components,
    seed_endpoints,
    seed_jobs,
    seed_studio,
)
from aifinops_cli.pricing.catalog import load_catalog
from aifinops_cli.scanners.aws.bedrock import avoidable_share
from aifinops_cli.scanners.aws.snapshots import accelerated_hint
from tests.conftest import by_rule_and_name, run_json
from tests.fakes.aws_proxy import Fault
from tests.scanners.aws.test_aws_ml import _policy_actions, scan_aws_calls

ESTATE = MlEstate(
    provisioned=[
        # a fine-tuned Titan Express, no term, 2 MU, never called: 20.50 x 2 x 730 = 29,930.00
        DemoProvisioned(
            "idle-ft", "amazon.titan-text-express-v1", 2, {"team": "support"}, 0, 10, custom_base=True
        ),
        # Cohere Command, 1-month term bought 20 days ago (the fake's terms run 30 days), idle:
        # 39.60 x 730 = 28,908.00 a month; deleting saves only the month after the term's end:
        # 39.60 x 24 h x (730 / 24 - 10) days = 950.40 x 20.4167 = 19,404.00
        DemoProvisioned("idle-committed", "cohere.command-text-v14", 1, {}, 0, 20, commitment="OneMonth"),
        # busy: no finding
        DemoProvisioned(
            "busy-pt", "amazon.titan-text-lite-v1", 1, {"team": "cx"}, 1000, 40, commitment="SixMonths"
        ),
        # idle but 3 days old: waits (min_age_days 7)
        DemoProvisioned(
            "new-pt", "meta.llama2-13b-chat-v1", 1, {"team": "research"}, 0, 3, commitment="OneMonth"
        ),
    ],
    jobs=[
        # 60 h in progress, 1 x ml.p3.2xlarge: 3.825 x 730 = 2,792.25 a month; so far 3.825 x 60 = 229.50
        DemoJob("stuck-train", "training", "ml.p3.2xlarge", 1, 60.0),
        # 50 h, 2 x ml.m5.xlarge: 0.23 x 2 x 730 = 335.80 a month
        DemoJob("long-proc", "processing", "ml.m5.xlarge", 2, 50.0),
        # 10 h: under the 48 h threshold
        DemoJob("fresh-train", "training", "ml.g4dn.xlarge", 1, 10.0),
    ],
    endpoints=[
        # a busy 4-GPU host for inference components (1 x ml.g4dn.12xlarge, 4 T4, 48 vCPU, 192 GiB)
        DemoEndpoint(
            "ic-host", {"team": "platform"}, "s3://m/host/model.tar.gz", "ml.g4dn.12xlarge", 1, 5000, 30
        ),
    ],
    components=[
        # idle: 3 copies x max(1 of 4 GPUs, 8,192 of 196,608 MiB) = 3 x 0.25 = 0.75 of the instance:
        # 4.89 x 730 x 0.75 = 2,677.275 a month
        DemoComponent("ic-idle", "ic-host", 3, 1, 8192, 0, 20),
        # busy: no finding
        DemoComponent("ic-busy", "ic-host", 1, 1, 8192, 900, 20),
    ],
    studio_apps=[
        # GPU JupyterLab, last used 30 h ago: notebook rate 0.7364 x 730 = 537.572 a month
        DemoStudioApp("gpu-space", "JupyterLab", "ml.g4dn.xlarge", idle_hours=30.0, age_days=4),
        # Code Editor used 3 h ago: under min_idle_hours 24
        DemoStudioApp("busy-space", "CodeEditor", "ml.t3.medium", idle_hours=3.0, age_days=9),
    ],
)
LEFTOVERS = [
    # 800 GB x 0.05 = 40.00 a month, 45 days old, names a p4d: fires
    DemoLeftover("gpu-ckpt", 800, 45, "checkpoints volume of the p4d.24xlarge trainer", {"team": "research"}),
    # AMI of a terminated g5.xlarge, Deep Learning AMI: 300 GB x 0.05 = 15.00
    DemoLeftover(
        "dlami-old", 300, 60, "Deep Learning AMI GPU PyTorch", {"team": "vision"}, instance_type="g5.xlarge"
    ),
    # a CPU backup: no GPU named, no finding
    DemoLeftover("cpu-backup", 500, 90, "nightly backup of the web tier"),
    # a GPU snapshot only 10 days old: waits (min_age_days 30)
    DemoLeftover("young-gpu", 100, 10, "scratch of the g5.2xlarge notebook"),
    # an AMI whose GPU instance still runs: not orphaned
    DemoLeftover("live-gpu-image", 200, 60, "CUDA 12 image", instance_type="g5.xlarge", terminated=False),
]
SCANNERS = (
    *("--scanner", "aws.bedrock", "--scanner", "aws.sagemaker_jobs"),
    *("--scanner", "aws.snapshots", "--scanner", "aws.sagemaker_studio"),
    *("--scanner", "aws.sagemaker_components"),
)


def _seed() -> None:
    now = datetime.now(UTC)
    seed_bedrock("us-east-1", ESTATE.provisioned, now)
    seed_jobs("us-east-1", ESTATE.jobs, now)
    seed_studio("us-east-1", ESTATE.studio_apps, now)
    seed_endpoints("us-east-1", ESTATE.endpoints, now)
    seed_components("us-east-1", ESTATE.components, now)
    seed_leftovers("us-east-1", LEFTOVERS, now)


@pytest.fixture
def estate(shared_estate):
    """Seeded once per worker: every test using it only scans (reads)."""
    return shared_estate("test_aws_ai", _seed)


def test_findings_and_amounts(estate, runner):
    report = run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    found = by_rule_and_name(report)
    assert set(found) == {
        "aws-bedrock-idle-provisioned-throughput",
        "aws-sagemaker-long-running-job",
        "aws-orphaned-gpu-image",
        "aws-sagemaker-studio-app-idle",
        "aws-sagemaker-idle-inference-component",
    }

    pt = found["aws-bedrock-idle-provisioned-throughput"]
    assert set(pt) == {"idle-ft", "idle-committed"}
    ft = pt["idle-ft"]
    assert ft["monthly_cost_usd"] == pytest.approx(29930.00)  # 20.50 x 2 x 730
    assert ft["estimated_monthly_savings_usd"] == pytest.approx(29930.00)
    assert ft["severity"] == "high" and ft["owner"] == "support"
    assert ft["evidence"]["custom_model"] is True
    assert ft["evidence"]["base_model"] == "amazon.titan-text-express-v1"
    [basis] = ft["evidence"]["cost_basis"]
    assert (basis["unit_price_usd"], basis["quantity"], basis["sku"]) == (
        20.50,
        1460.0,  # 2 model units x 730 h
        "aws.bedrock.provisioned:amazon.titan-text-express-v1/no-commitment:us-east-1",
    )
    committed = pt["idle-committed"]
    assert committed["monthly_cost_usd"] == pytest.approx(28908.00)  # 39.60 x 730
    [committed_basis] = committed["evidence"]["cost_basis"]
    assert committed_basis["unit_price_usd"] == 39.60  # Bedrock pricing page, 1-month term
    # 950.40 a day x (30.4167 - 10 days left) = 19,404.00 (seconds between seeding and scan: < 0.5)
    assert committed["estimated_monthly_savings_usd"] == pytest.approx(19404.00, abs=0.5)
    assert committed["evidence"]["commitment"] == "1-month"
    assert committed["evidence"]["commitment_days_left"] == pytest.approx(10.0, abs=0.01)

    jobs = found["aws-sagemaker-long-running-job"]
    assert set(jobs) == {"stuck-train", "long-proc"}
    assert jobs["stuck-train"]["monthly_cost_usd"] == pytest.approx(2792.25)  # 3.825 x 730
    assert jobs["stuck-train"]["severity"] == "high"
    assert jobs["stuck-train"]["evidence"]["cost_so_far_usd"] == pytest.approx(229.50, abs=0.01)  # 3.825 x 60
    assert jobs["long-proc"]["monthly_cost_usd"] == pytest.approx(335.80)  # 0.23 x 2 x 730
    assert jobs["long-proc"]["evidence"]["job_type"] == "processing"
    assert jobs["long-proc"]["severity"] == "medium"

    left = found["aws-orphaned-gpu-image"]
    assert set(left) == {"gpu-ckpt", "dlami-old"}
    assert left["gpu-ckpt"]["monthly_cost_usd"] == pytest.approx(40.00)  # 800 GB x 0.05
    assert left["gpu-ckpt"]["evidence"]["accelerated_hint"] == "p4d.24xlarge"
    assert left["gpu-ckpt"]["resource_kind"] == "aws.ec2.snapshot"
    assert left["dlami-old"]["monthly_cost_usd"] == pytest.approx(15.00)  # 300 GB x 0.05
    assert left["dlami-old"]["resource_kind"] == "aws.ec2.image"
    assert left["dlami-old"]["evidence"]["source_instance_id"].startswith("i-")
    # the AMI's own snapshot is reported with the AMI, never a second time on its own
    snaps = {f["resource_id"] for f in report["findings"] if f["resource_kind"] == "aws.ec2.snapshot"}
    assert not snaps & set(left["dlami-old"]["evidence"]["snapshot_ids"])

    studio = found["aws-sagemaker-studio-app-idle"]
    assert set(studio) == {"gpu-space/default"}
    app = studio["gpu-space/default"]
    assert app["monthly_cost_usd"] == pytest.approx(537.57)  # 0.7364 x 730 = 537.572
    assert app["confidence"] == "high" and app["severity"] == "medium"
    assert app["evidence"]["idle_hours"] == pytest.approx(30.0, abs=0.1)

    [ic] = found["aws-sagemaker-idle-inference-component"].values()
    assert ic["resource_name"] == "ic-idle"
    # 4.89 x 730 x 3 x 0.25 = 2,677.275 (2,677.27 in cents: the float is just under the half cent)
    assert ic["monthly_cost_usd"] == pytest.approx(2677.275, abs=0.006)
    assert ic["evidence"]["copy_share"] == 0.25 and ic["evidence"]["copies"] == 3
    assert ic["evidence"]["instance_type"] == "ml.g4dn.12xlarge"  # from the endpoint's config
    assert ic["evidence"]["endpoint_other_invocations"] > 0

    total = 29930.00 + 19404.00 + 2792.25 + 335.80 + 40.00 + 15.00 + 537.572 + 2677.275
    assert report["summary"]["monthly_waste_usd"] == pytest.approx(total, abs=0.6)
    assert report["coverage"]["complete"] is True
    assert report["unpriced"] == []


def test_requests_are_bounded(estate, runner):
    run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    ops = estate.recorder.operations()
    assert ops["/provisioned-model-throughputs"] == 1  # one list, no Get per model
    assert ops["/listTagsForResource"] == 4  # one per billing provisioned model (4)
    assert ops["ListTrainingJobs"] == 1 and ops["ListProcessingJobs"] == 1
    assert ops["DescribeTrainingJob"] == 2 and ops["DescribeProcessingJob"] == 1  # in progress only
    assert ops["DescribeSnapshots"] == 1 and ops["DescribeImages"] == 1
    assert ops["DescribeInstances"] == 1 and ops["DescribeVolumes"] == 1  # the shared inventory
    assert ops["ListApps"] == 1 and ops["DescribeApp"] == 2  # one per InService app on an ml.* instance
    assert ops["ListInferenceComponents"] == 1 and ops["DescribeInferenceComponent"] == 2
    # the components name no instance type: their one endpoint's config is read, once
    assert ops["DescribeEndpoint"] == 1 and ops["DescribeEndpointConfig"] == 1
    assert ops["DescribeInstanceTypes"] == 1  # GPUs, vCPUs, memory of every type in one call
    assert ops["GetMetricData"] == 2  # Bedrock's batch and the components' batch
    assert sum(ops.values()) == 26, ops


def test_cloudwatch_denied_is_partial_and_calls_nothing_idle(estate, runner):
    estate.recorder.faults.append(Fault("AccessDenied", operation="GetMetricData"))
    report = run_json(runner, "scan", "--regions", "us-east-1", *SCANNERS)
    scope = next(s for s in report["coverage"]["scopes"] if s["scanner"] == "aws.bedrock")
    assert scope["status"] == "partial" and "invocations not read" in scope["message"]
    found = by_rule_and_name(report)
    assert "aws-bedrock-idle-provisioned-throughput" not in found
    assert set(found["aws-orphaned-gpu-image"]) == {"gpu-ckpt", "dlami-old"}  # the rest still judged


def test_avoidable_share_and_hints():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert avoidable_share("no-commitment", None, now) == 1.0
    # 10 days left of a term: (30.4167 - 10) / 30.4167 = 0.6712
    assert avoidable_share("1-month", datetime(2026, 12, 11, tzinfo=UTC), now) == pytest.approx(
        (730 / 24 - 10) / (730 / 24)
    )
    assert avoidable_share("6-month", datetime(2027, 3, 1, tzinfo=UTC), now) == 0.0  # owed all month
    assert accelerated_hint("backup of m5.xlarge web tier") is None
    assert accelerated_hint("from trn1.32xlarge") == "trn1.32xlarge"
    assert accelerated_hint("", "Deep Learning AMI") == "Deep Learning"


def test_every_call_is_read_only_and_in_the_iam_policy(estate, runner):
    """A whole AWS scan of this estate (provisioned models with tags, jobs in progress, snapshots,
    AMIs) makes only Describe/List/Get calls, each allowed by docs/permissions/aws-iam-policy.json."""
    seen = scan_aws_calls(runner)
    new = {
        ("bedrock", "ListProvisionedModelThroughputs"),
        ("bedrock", "ListTagsForResource"),
        ("sagemaker", "ListTrainingJobs"),
        ("sagemaker", "DescribeTrainingJob"),
        ("sagemaker", "ListProcessingJobs"),
        ("sagemaker", "DescribeProcessingJob"),
        ("ec2", "DescribeSnapshots"),
        ("ec2", "DescribeImages"),
        ("sagemaker", "ListApps"),
        ("sagemaker", "DescribeApp"),
        ("sagemaker", "ListInferenceComponents"),
        ("sagemaker", "DescribeInferenceComponent"),
        ("ec2", "DescribeInstanceTypes"),
    }
    assert new <= seen, sorted(new - seen)
    assert all(op.startswith(("Describe", "List", "Get")) for _, op in seen), sorted(seen)
    needed = {f"{prefix}:{op}" for prefix, op in seen}
    assert needed <= _policy_actions(), sorted(needed - _policy_actions())


def test_unknown_model_is_unpriced_not_zero_and_tags_denied_is_partial(far_end, runner):
    """A provisioned model the catalog has no rate for is listed as unpriced (never $0 waste); tags
    refused by Bedrock make the region partial, the model is still judged."""
    seed_bedrock(
        "us-east-1",
        [DemoProvisioned("nova-pt", "amazon.nova-pro-v1:0", 1, {"team": "x"}, 0, 30, commitment="OneMonth")],
        datetime.now(UTC),
    )
    far_end.recorder.faults.append(Fault("AccessDeniedException", operation="/listTagsForResource"))
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.bedrock")
    assert report["unpriced"] == [
        {
            "scanner": "aws.bedrock",
            "resource_id": "nova-pt",
            "sku": "aws.bedrock.provisioned:amazon.nova-pro-v1:0/1-month:us-east-1",
        }
    ]
    [finding] = report["findings"]
    assert finding["resource_name"] == "nova-pt" and finding["owner"] is None
    assert report["summary"]["monthly_waste_usd"] == 0
    [scope] = [s for s in report["coverage"]["scopes"] if s["scanner"] == "aws.bedrock"]
    assert scope["status"] == "partial" and "owners unknown" in scope["message"]
    assert "access denied" in scope["message"]


def test_async_endpoint_idle_only_with_nothing_queued(far_end, runner):
    """Asynchronous endpoints: no invocations and no backlog is idle; a backlog with nothing
    processed is a stuck endpoint, not an idle one. Their backlog rides in the same GetMetricData."""
    model = "s3://models-bucket/whisper/model.tar.gz"
    seed_endpoints(
        "us-east-1",
        [
            # 1 x ml.g4dn.xlarge: 0.736 x 730 = 537.28 a month
            DemoEndpoint(
                "async-idle", {"team": "a"}, model, "ml.g4dn.xlarge", 1, 0, 30, async_output="s3://out/a/"
            ),
            DemoEndpoint(
                "async-stuck",
                {"team": "b"},
                model,
                "ml.g4dn.xlarge",
                1,
                0,
                30,
                async_output="s3://out/b/",
                backlog=3,
            ),
        ],
        datetime.now(UTC),
    )
    far_end.recorder.calls.clear()
    report = run_json(runner, "scan", "--regions", "us-east-1", "--scanner", "aws.sagemaker")
    idle = by_rule_and_name(report)["aws-sagemaker-idle-endpoint"]
    assert set(idle) == {"async-idle"}
    assert idle["async-idle"]["monthly_cost_usd"] == pytest.approx(537.28)
    assert idle["async-idle"]["evidence"]["async_inference"] is True
    assert idle["async-idle"]["evidence"]["backlog_max"] == 0
    assert far_end.recorder.operations()["GetMetricData"] == 1


def test_studio_and_notebook_rows_are_the_checked_ones() -> None:
    """Notebook instances and Studio apps share `aws.sagemaker.notebook`; its ml.g4dn.xlarge is
    the notebook table's 0.7364, not the hosting table's 0.736, and ml.g5.xlarge is 1.408 (the
    "1.41" of rounded copies). A Studio JupyterLab app on ml.g4dn.xlarge for a month:
    0.7364 x 730 = 537.572; the same instance as an endpoint: 0.736 x 730 = 537.28."""
    prices = load_catalog()
    app = prices.line("aws.sagemaker.notebook", "ml.g4dn.xlarge", "us-east-1", 730.0, "app")
    endpoint = prices.line("aws.sagemaker.hosting", "ml.g4dn.xlarge", "us-east-1", 730.0, "endpoint")
    g5 = prices.line("aws.sagemaker.notebook", "ml.g5.xlarge", "us-east-1", 730.0, "g5 app")
    assert app is not None and endpoint is not None and g5 is not None
    assert app.monthly_usd == pytest.approx(537.572)
    assert endpoint.monthly_usd == pytest.approx(537.28)
    assert g5.monthly_usd == pytest.approx(1027.84)  # 1.408 x 730
