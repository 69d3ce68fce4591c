"""A realistic AI estate in an in-process moto account: no credentials, nothing leaves the machine.

Two regions, teams by tag, busy and idle GPU instances with 14 days of CloudWatch metrics (some
with the CloudWatch agent's GPU metrics, most without, as in real accounts), a stopped GPU box
whose volume keeps billing, and volumes left behind. moto's random ids are seeded so the demo's
reports are the same on every run (timestamps aside).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from aifinops_cli.core.plugin import ScanOptions
from aifinops_cli.demo.aws_ml import DEMO_BASE_IMAGE, seed_ml, seed_ml_ai

DEMO_ACCOUNT_REGIONS = ("us-east-1", "eu-west-1")
SEED = 20261129
# moto stamps LaunchTime / CreateTime "now"; the demo's machines and disks are weeks old
LAUNCHED_DAYS_AGO = 38
VOLUME_CREATED_DAYS_AGO = 75


@dataclass(frozen=True)
class DemoInstance:
    name: str
    instance_type: str
    tags: dict[str, str]
    cpu: float  # typical CPU %
    gpu: float | None = None  # typical GPU % where the CloudWatch agent publishes it
    net_mb_day: float = 5.0
    stopped: bool = False
    root_gb: int = 100
    data_gb: int = 0
    spot: bool = False
    # the CloudWatch agent's GPU series: `gpus` GPUs of `gpu_name`, each with the same
    # utilisation wave and, where given, memory used around `gpu_mem_mib` of `gpu_mem_total_mib`
    gpus: int = 1
    gpu_name: str = "NVIDIA A10G"
    gpu_mem_mib: float | None = None
    gpu_mem_total_mib: float | None = None


@dataclass(frozen=True)
class DemoVolume:
    name: str
    size_gb: int
    volume_type: str
    tags: dict[str, str] = field(default_factory=dict)
    iops: int | None = None
    throughput: int | None = None


KARPENTER_NODE = "eks-ml-gpu-node"
ESTATE: dict[str, tuple[list[DemoInstance], list[DemoVolume]]] = {
    "us-east-1": (
        [
            DemoInstance(
                "llm-finetune-a100",
                "p3.8xlarge",
                {"team": "ml-research", "project": "llama-ft"},
                cpu=2.1,
                gpu=0.4,
                net_mb_day=3,
            ),
            DemoInstance("notebook-jane", "g5.2xlarge", {"owner": "data-science"}, cpu=1.3),
            DemoInstance("rag-embedder", "g4dn.xlarge", {}, cpu=0.8, net_mb_day=1),
            DemoInstance(
                "trainer-main", "p3.2xlarge", {"team": "ml-research"}, cpu=64, gpu=88, net_mb_day=4200
            ),
            DemoInstance(
                "inference-prod",
                "g5.xlarge",
                {"team": "inference"},
                cpu=38,
                gpu=55,
                net_mb_day=9000,
                gpu_mem_mib=9000,  # peaks at 9000 x 1.32 = 11,880 MiB of the A10G's 24 GB
                gpu_mem_total_mib=23028,
            ),
            DemoInstance("api-gateway", "m5.large", {"team": "platform"}, cpu=22, net_mb_day=20000),
            DemoInstance(
                "cv-experiments",
                "p3.8xlarge",
                {"team": "vision"},
                cpu=0.0,
                stopped=True,
                root_gb=200,
                data_gb=2000,
            ),
            # a Karpenter-launched GPU node of the demo's `eks-ml` Kubernetes cluster: the EC2 scan
            # and the Kubernetes scan both flag it, and the report counts it once
            DemoInstance(
                KARPENTER_NODE,
                "g5.12xlarge",
                {"karpenter.sh/nodepool": "gpu", "kubernetes.io/cluster/eks-ml": "owned"},
                cpu=1.0,
                gpu=0.0,
            ),
        ],
        [
            DemoVolume("llama-checkpoints-old", 2000, "gp3", {"team": "ml-research"}),
            DemoVolume("feature-store-scratch", 1000, "io2", {}, iops=8000),
            DemoVolume("jupyter-home-bob", 200, "gp2", {"owner": "data-science"}),
            DemoVolume("datasets-raw-copy", 4000, "st1", {"team": "ml-research"}),
        ],
    ),
    "eu-west-1": (
        [
            DemoInstance(
                "eu-inference-canary", "g5.4xlarge", {"team": "inference"}, cpu=3.0, gpu=1.2, net_mb_day=12
            ),
            DemoInstance("eu-batch-embed", "g4dn.2xlarge", {"team": "nlp"}, cpu=45, net_mb_day=3000),
        ],
        [
            DemoVolume("eu-vector-index-old", 1500, "gp3", {"team": "nlp"}, iops=6000, throughput=250),
            DemoVolume("eu-tmp", 50, "gp3", {}),
        ],
    ),
}


@dataclass(frozen=True)
class DemoLeftover:
    """What a finished GPU project left: a snapshot of a volume since deleted, or (with
    `instance_type`) an AMI made from an instance since terminated."""

    name: str
    size_gb: int
    age_days: int
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    instance_type: str | None = None  # set: an AMI of an instance of this type
    terminated: bool = True  # the AMI's instance is gone


LEFTOVERS: dict[str, list[DemoLeftover]] = {
    "us-east-1": [
        # the old fine-tuning box's dataset volume, snapshotted before deletion, 4 months ago:
        # 4,000 GB x 0.05 = 200.00 a month
        DemoLeftover(
            "llama-ft-datasets-final",
            4000,
            120,
            "datasets volume of the p3.8xlarge fine-tuning box, before teardown",
            {"team": "ml-research"},
        ),
        # a golden image of the vision team's GPU trainer, instance long gone: 500 GB x 0.05 = 25.00
        DemoLeftover(
            "vision-dlami-cuda12-golden",
            500,
            75,
            "Deep Learning AMI GPU PyTorch 2.3 + our CUDA 12 stack",
            {"team": "vision"},
            instance_type="g5.2xlarge",
        ),
        # a CPU web server's backup: not an AI leftover, no finding
        DemoLeftover("web-backup", 100, 200, "nightly backup of the web tier", {"team": "platform"}),
    ],
}


def seed_leftovers(region: str, leftovers: list[DemoLeftover], now: datetime) -> None:
    """Snapshots and AMIs through the EC2 API, then their sources deleted. moto keeps no real
    blocks, so the age and the AMI snapshot's size are set on its side (no API sets them)."""
    if not leftovers:
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    ec2 = boto3.client("ec2", region_name=region)
    backend = ec2_backends[DEFAULT_ACCOUNT_ID][region]
    image = DEMO_BASE_IMAGE
    for item in leftovers:
        when = (now - timedelta(days=item.age_days)).astimezone(UTC).replace(tzinfo=None)
        if item.instance_type is None:
            vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=item.size_gb, VolumeType="gp3")
            snap = ec2.create_snapshot(
                VolumeId=vol["VolumeId"],
                Description=item.description,
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": _tags(item.name, item.tags)}],
            )
            ec2.delete_volume(VolumeId=vol["VolumeId"])
            backend.snapshots[snap["SnapshotId"]].start_time = when
            continue
        iid = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType=item.instance_type)[
            "Instances"
        ][0]["InstanceId"]
        ami = ec2.create_image(
            InstanceId=iid,
            Name=item.name,
            Description=item.description,
            TagSpecifications=[{"ResourceType": "image", "Tags": _tags(item.name, item.tags)}],
        )["ImageId"]
        if item.terminated:
            ec2.terminate_instances(InstanceIds=[iid])
        record = backend.amis[ami]
        record.creation_date = when
        record.ebs_snapshot.start_time = when
        record.ebs_snapshot.volume.size = item.size_gb


def _tags(name: str, tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}] + [{"Key": k, "Value": v} for k, v in tags.items()]


def _series(typical: float, days: int, per_day: int, now: datetime) -> list[tuple[datetime, float]]:
    """A deterministic daily wave around `typical` (busy boxes vary; idle ones stay flat)."""
    out = []
    for d in range(days):
        for h in range(per_day):
            wave = ((d * 7 + h * 3) % 10) / 10.0  # 0.0 .. 0.9
            value = typical * (0.6 + 0.8 * wave) if typical >= 5 else typical * (0.9 + 0.2 * wave)
            out.append((now - timedelta(days=d, hours=h * (24 // per_day) + 1), round(value, 3)))
    return out


def _put_gpu(
    cw: Any, spec: DemoInstance, dims: list[dict[str, str]], index: int, days: int, now: datetime
) -> None:
    """One GPU's agent metrics (dimensions as the agent's nvidia_gpu section writes them)."""
    gdims = [*dims, {"Name": "index", "Value": str(index)}, {"Name": "name", "Value": spec.gpu_name}]
    series = [("nvidia_smi_utilization_gpu", "Percent", _series(spec.gpu or 0.0, days, 6, now))]
    if spec.gpu_mem_mib is not None:
        series.append(("nvidia_smi_memory_used", "Megabytes", _series(spec.gpu_mem_mib, days, 6, now)))
    if spec.gpu_mem_total_mib is not None:
        flat = [(ts, spec.gpu_mem_total_mib) for ts, _ in _series(1.0, days, 6, now)]
        series.append(("nvidia_smi_memory_total", "Megabytes", flat))
    data = [
        {"MetricName": name, "Dimensions": gdims, "Timestamp": ts, "Value": v, "Unit": unit}
        for name, unit, points in series
        for ts, v in points
    ]
    for start in range(0, len(data), 500):
        cw.put_metric_data(Namespace="CWAgent", MetricData=data[start : start + 500])


def seed_region(
    region: str, instances: list[DemoInstance], volumes: list[DemoVolume], now: datetime, days: int = 14
) -> None:
    ec2 = boto3.client("ec2", region_name=region)
    cw = boto3.client("cloudwatch", region_name=region)
    image = DEMO_BASE_IMAGE
    for spec in instances:
        mappings: list[dict[str, Any]] = [
            {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": spec.root_gb, "VolumeType": "gp3"}}
        ]
        if spec.data_gb:
            mappings.append(
                {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": spec.data_gb, "VolumeType": "gp3"}}
            )
        iid = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType=spec.instance_type,
            BlockDeviceMappings=mappings,
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(spec.name, spec.tags)}],
            **({"InstanceMarketOptions": {"MarketType": "spot"}} if spec.spot else {}),
        )["Instances"][0]["InstanceId"]
        _backdate_instance(region, iid, now - timedelta(days=LAUNCHED_DAYS_AGO))
        if spec.stopped:
            ec2.stop_instances(InstanceIds=[iid])
            continue
        dims = [{"Name": "InstanceId", "Value": iid}]
        data: list[dict[str, Any]] = []
        for ts, v in _series(spec.cpu, days, 6, now):
            data.append(
                {
                    "MetricName": "CPUUtilization",
                    "Dimensions": dims,
                    "Timestamp": ts,
                    "Value": v,
                    "Unit": "Percent",
                }
            )
        for ts, v in _series(spec.net_mb_day * 1e6 / 12, days, 6, now):
            for metric in ("NetworkIn", "NetworkOut"):
                data.append(
                    {"MetricName": metric, "Dimensions": dims, "Timestamp": ts, "Value": v, "Unit": "Bytes"}
                )
        for start in range(0, len(data), 500):
            cw.put_metric_data(Namespace="AWS/EC2", MetricData=data[start : start + 500])
        if spec.gpu is not None:
            for index in range(spec.gpus):
                _put_gpu(cw, spec, dims, index, days, now)
    for vol in volumes:
        kwargs: dict[str, Any] = {
            "AvailabilityZone": f"{region}a",
            "Size": vol.size_gb,
            "VolumeType": vol.volume_type,
        }
        if vol.iops:
            kwargs["Iops"] = vol.iops
        if vol.throughput:
            kwargs["Throughput"] = vol.throughput
        kwargs["TagSpecifications"] = [{"ResourceType": "volume", "Tags": _tags(vol.name, vol.tags)}]
        vid = ec2.create_volume(**kwargs)["VolumeId"]
        _backdate_volume(region, vid, now - timedelta(days=VOLUME_CREATED_DAYS_AGO))


def _backdate_instance(region: str, instance_id: str, when: datetime) -> None:
    """Set LaunchTime (and its volumes' CreateTime) on moto's side: no EC2 API sets them."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[DEFAULT_ACCOUNT_ID][region]
    naive = when.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC times
    # (a moto server in another process keeps its own times: nothing here to set)
    for reservation in backend.reservations.values():
        for instance in reservation.instances:
            if instance.id == instance_id:
                instance.launch_time = naive
    for volume in backend.volumes.values():
        if volume.attachment is not None and volume.attachment.instance.id == instance_id:
            volume.create_time = naive


def _backdate_volume(region: str, volume_id: str, when: datetime) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    volume = ec2_backends[DEFAULT_ACCOUNT_ID][region].volumes.get(volume_id)
    if volume is not None:
        volume.create_time = when.astimezone(UTC).replace(tzinfo=None)


_DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    # no moto catalog of Amazon images: see aws_ml.DEMO_BASE_IMAGE
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
_CLEARED_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def karpenter_node_ids() -> dict[str, str]:
    """The providerID of the Kubernetes demo node that is the demo's Karpenter EC2 instance (read
    from the moto account, so the EC2 and Kubernetes scans name the same machine)."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [KARPENTER_NODE]}])
    for reservation in found["Reservations"]:
        for inst in reservation["Instances"]:
            zone = inst["Placement"]["AvailabilityZone"]
            return {"ip-10-1-0-11.ec2.internal": f"aws:///{zone}/{inst['InstanceId']}"}
    return {}


@contextmanager
def demo_aws(options: ScanOptions) -> Iterator[None]:
    """Point the AWS scanners at a seeded in-process moto account for the duration (moto must be
    installed: the `demo` extra)."""
    from aifinops_cli.scanners.aws.common import share_service_models

    share_service_models()  # before moto's EC2 backend is imported: it parses EC2's model thrice
    from moto import mock_aws
    from moto.moto_api._internal import mock_random

    options.settings_for("aws").profile = None  # the demo's credentials, whatever --profile says
    saved = {k: os.environ.get(k) for k in (*_DEMO_ENV, *_CLEARED_ENV)}
    os.environ.update(_DEMO_ENV)
    for key in _CLEARED_ENV:
        os.environ.pop(key, None)
    try:
        with mock_aws():
            from aifinops_cli.demo.fakes.aws_extra import install

            install()  # the Bedrock operations moto lacks
            mock_random.seed(SEED)
            now = datetime.now(UTC)
            for region, (instances, volumes) in ESTATE.items():
                seed_region(region, instances, volumes, now)
                seed_ml(region, now, ai=False)  # SageMaker endpoints/notebooks, EKS GPU node groups
            # last, so that the resources above keep their ids: Bedrock, SageMaker jobs, Studio and
            # inference components, then the snapshots and AMIs of gone GPU boxes
            for region in ESTATE:
                seed_ml_ai(region, now)
            for region, leftovers in LEFTOVERS.items():
                seed_leftovers(region, leftovers, now)
            options.settings_for("aws").regions = list(DEMO_ACCOUNT_REGIONS)
            options.settings_for("aws").live_prices = False  # the demo is offline: bundled catalogs only
            if "aws" not in options.providers:
                options.providers.append("aws")
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
