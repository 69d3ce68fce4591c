"""Benchmark: the SageMaker and EKS scanners against a moto server through the counting proxy.

Estate: 2 regions x 100 real-time endpoints (10 models, each served by 10 endpoints of 5 teams;
one endpoint in 5 never called) and 10 GPU node groups of 3 nodes (one in 5 idle); per region
also 20 Bedrock provisioned models (one in 5 never called), 20 SageMaker jobs in progress (half
past 48 h) and 40 snapshots plus 5 AMIs of deleted volumes / terminated instances (one snapshot in
4 and every AMI names a GPU type), 20 Studio JupyterLab apps (one in 4 idle for 48 h) and 20
inference components on 10 busy endpoints (half never called); Bedrock PT, Studio apps and
inference components are added to moto by demo/fakes/aws_extra.py. Prints wall
time, the requests the far end received by operation, and whether the findings are the expected
ones. Describe calls grow with the number of endpoints and node groups (SageMaker and EKS have
no batch describe); metric calls do not (500 queries per GetMetricData).

    python bench/aws_ml_scan.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.aws_proxy import AwsFarEnd  # noqa: E402

from aifinops_cli.demo.aws import DemoLeftover, seed_leftovers  # noqa: E402
from aifinops_cli.demo.aws_ml import (  # noqa: E402
    DemoComponent,
    DemoEndpoint,
    DemoJob,
    DemoNodegroup,
    DemoProvisioned,
    DemoStudioApp,
    MlEstate,
    seed_bedrock,
    seed_components,
    seed_endpoints,
    seed_jobs,
    seed_nodegroups,
    seed_studio,
)

REGIONS = ("us-east-1", "us-west-2")
ENDPOINTS = 100
MODELS = 10
TEAMS = 5
NODEGROUPS = 10
NODES = 3
PROVISIONED = 20
JOBS = 20
SNAPSHOTS = 40
IMAGES = 5
STUDIO_APPS = 20
COMPONENTS = 20  # on 10 busy endpoints, two each: one idle, one called


def estate() -> MlEstate:
    endpoints = [
        DemoEndpoint(
            f"ep-{n:03d}",
            {"team": f"team-{n // MODELS % TEAMS}"},
            f"s3://bench-models/model-{n % MODELS}/model.tar.gz",
            "ml.g4dn.xlarge",
            1,
            invocations_per_day=0 if n % 5 == 0 else 500,
            age_days=30,
        )
        for n in range(ENDPOINTS)
    ]
    groups = [
        DemoNodegroup(
            f"cluster-{n % 3}",
            f"gpu-{n:02d}",
            "g4dn.xlarge",
            NODES,
            {"team": f"team-{n % TEAMS}"},
            cpu=1.0 if n % 5 == 0 else 50.0,
            gpu=0.5 if n % 5 == 0 else 70.0,
        )
        for n in range(NODEGROUPS)
    ]
    provisioned = [
        DemoProvisioned(
            f"pt-{n:02d}",
            "amazon.titan-text-lite-v1",
            1,
            {"team": f"team-{n % TEAMS}"},
            invocations_per_day=0 if n % 5 == 0 else 2000,
            age_days=30,
            commitment="OneMonth",
        )
        for n in range(PROVISIONED)
    ]
    jobs = [
        DemoJob(
            f"job-{n:02d}",
            "training" if n % 2 else "processing",
            "ml.g4dn.xlarge",
            1,
            72.0 if n < 10 else 4.0,
        )
        for n in range(JOBS)
    ]
    apps = [
        DemoStudioApp(f"space-{n:02d}", "JupyterLab", "ml.g4dn.xlarge", 48.0 if n % 4 == 0 else 1.0, 10)
        for n in range(STUDIO_APPS)
    ]
    hosts = [e.name for e in endpoints if e.invocations_per_day][: COMPONENTS // 2]
    components = [
        DemoComponent(f"ic-{n:02d}", hosts[n // 2], 1, 1, 4096, 0 if n % 2 == 0 else 800, 30)
        for n in range(COMPONENTS)
    ]
    return MlEstate(
        endpoints=endpoints,
        nodegroups=groups,
        provisioned=provisioned,
        jobs=jobs,
        studio_apps=apps,
        components=components,
    )


def leftovers() -> list[DemoLeftover]:
    snaps = [
        DemoLeftover(f"snap-{n:02d}", 200, 60, "data of g5.2xlarge box" if n % 4 == 0 else "web tier backup")
        for n in range(SNAPSHOTS)
    ]
    images = [
        DemoLeftover(f"ami-{n}", 100, 60, "Deep Learning AMI", instance_type="g4dn.xlarge")
        for n in range(IMAGES)
    ]
    return snaps + images


def main() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_DISABLE_REQUEST_COMPRESSION": "true",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    spec = estate()
    with AwsFarEnd() as far_end:
        os.environ["AWS_ENDPOINT_URL"] = far_end.moto_url  # seed straight into moto
        began = time.perf_counter()
        now = datetime.now(UTC)
        for region in REGIONS:
            seed_endpoints(region, spec.endpoints, now)
            seed_nodegroups(region, spec.nodegroups, now)
            seed_bedrock(region, spec.provisioned, now)
            seed_jobs(region, spec.jobs, now)
            seed_leftovers(region, leftovers(), now)
            seed_studio(region, spec.studio_apps, now)
            seed_components(region, spec.components, now)
        seeded = time.perf_counter() - began
        os.environ["AWS_ENDPOINT_URL"] = far_end.url  # scan through the counting proxy
        far_end.recorder.calls.clear()
        from typer.testing import CliRunner

        from aifinops_cli.cli.app import app

        began = time.perf_counter()
        result = CliRunner().invoke(
            app,
            [
                "scan",
                "--regions",
                ",".join(REGIONS),
                "--scanner",
                "aws.sagemaker",
                "--scanner",
                "aws.eks",
                "--scanner",
                "aws.bedrock",
                "--scanner",
                "aws.sagemaker_jobs",
                "--scanner",
                "aws.snapshots",
                "--scanner",
                "aws.sagemaker_studio",
                "--scanner",
                "aws.sagemaker_components",
                "--format",
                "json",
            ],
        )
        wall = time.perf_counter() - began
        report = json.loads(result.stdout)
        ops = far_end.recorder.operations()
        busy = far_end.recorder.upstream_seconds()
        busy_by_op = dict(far_end.recorder.busy_by_op)
    rules = Counter(f["rule_id"] for f in report["findings"])
    eks_paths = sum(n for op, n in ops.items() if op.startswith("/clusters"))
    print(
        f"seeded {len(REGIONS)} regions x ({ENDPOINTS} endpoints, {NODEGROUPS} GPU node groups x "
        f"{NODES} nodes) in {seeded:.1f} s"
    )
    print(
        f"scan wall time: {wall:.2f} s (moto answering for {busy:.2f} s of it), exit code {result.exit_code}"
    )
    print(f"requests: {sum(ops.values())} in total")
    for op, n in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])):
        if not op.startswith("/clusters"):
            print(f"  {op:28s} {n}")
    print(f"  {'EKS (REST: list + describe)':28s} {eks_paths}")
    slowest = sorted(busy_by_op.items(), key=lambda kv: -kv[1])[:6]
    print("moto's seconds by operation: " + ", ".join(f"{op} {t:.2f}" for op, t in slowest))
    print(f"findings by rule: {dict(rules)}")
    idle_expected = len(REGIONS) * ENDPOINTS // 5
    groups_expected = len(REGIONS) * NODEGROUPS // 5
    dup_expected = len(REGIONS) * MODELS
    pt_expected = len(REGIONS) * PROVISIONED // 5
    jobs_expected = len(REGIONS) * 10
    left_expected = len(REGIONS) * (SNAPSHOTS // 4 + IMAGES)
    apps_expected = len(REGIONS) * STUDIO_APPS // 4
    ic_expected = len(REGIONS) * COMPONENTS // 2
    ok = (
        rules["aws-bedrock-idle-provisioned-throughput"] == pt_expected
        and rules["aws-sagemaker-long-running-job"] == jobs_expected
        and rules["aws-orphaned-gpu-image"] == left_expected
        and rules["aws-sagemaker-studio-app-idle"] == apps_expected
        and rules["aws-sagemaker-idle-inference-component"] == ic_expected
        and rules["aws-sagemaker-idle-endpoint"] == idle_expected
        and rules["aws-eks-idle-gpu-nodegroup"] == groups_expected
        and rules["aws-sagemaker-duplicate-model"] == dup_expected
    )
    print(
        f"expected {idle_expected} idle endpoints, {groups_expected} idle node groups, "
        f"{dup_expected} duplicated models, {pt_expected} idle provisioned models, {jobs_expected} "
        f"long jobs, {left_expected} GPU leftovers, {apps_expected} idle Studio apps, {ic_expected} idle "
        "inference components: "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    print(f"monthly waste: ${report['summary']['monthly_waste_usd']:,.2f}")


if __name__ == "__main__":
    main()
