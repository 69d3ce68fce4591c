"""The managed-ML part of the demo estate: SageMaker endpoints and notebooks, an EKS GPU node group.

Seeded through the real AWS APIs of the moto account (create_model, create_endpoint_config,
create_endpoint, create_notebook_instance, create_cluster, create_nodegroup, run_instances,
put_metric_data). Two things moto cannot do through the API are done on its side of the wire:
- moto's EKS does not launch the node group's EC2 instances, so we launch them ourselves with the
  tags EKS puts on managed nodes (`eks:cluster-name`, `eks:nodegroup-name`);
- SageMaker has no API to set when an endpoint was created or a notebook last started, so the
  fake's own records are backdated (`_backdate`), as if the resources had been there for weeks.
moto also accepts only older `ml.*` instance types (no ml.g5), hence ml.g4dn and ml.p3 below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

ROLE = "arn:aws:iam::123456789012:role/demo-sagemaker"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.3-gpu"


@dataclass(frozen=True)
class DemoEndpoint:
    name: str
    tags: dict[str, str]
    model_data: str
    instance_type: str
    count: int
    invocations_per_day: float
    age_days: int


@dataclass(frozen=True)
class DemoNotebook:
    name: str
    instance_type: str
    tags: dict[str, str]
    in_service_days: int


@dataclass(frozen=True)
class DemoNodegroup:
    cluster: str
    name: str
    instance_type: str
    desired: int
    tags: dict[str, str]
    cpu: float = 0.0  # typical node CPU %
    gpu: float | None = None  # typical GPU %, where the CloudWatch agent publishes it
    net_mb_day: float = 400.0  # kubelet, daemonsets, log shipping: idle nodes still talk
    spot: bool = False  # a SPOT capacity node group: its nodes are Spot instances


@dataclass(frozen=True)
class MlEstate:
    endpoints: list[DemoEndpoint] = field(default_factory=list)
    notebooks: list[DemoNotebook] = field(default_factory=list)
    nodegroups: list[DemoNodegroup] = field(default_factory=list)


LLAMA = "s3://acme-ml-models/llama-3-8b-instruct/v3/model.tar.gz"

ML_ESTATE: dict[str, MlEstate] = {
    "us-east-1": MlEstate(
        endpoints=[
            # two teams serve the same fine-tuned model, unaware of each other
            DemoEndpoint(
                "search-llm-chat",
                {"team": "search"},
                LLAMA,
                "ml.g4dn.2xlarge",
                2,
                invocations_per_day=18000,
                age_days=45,
            ),
            DemoEndpoint(
                "support-llm-assist",
                {"team": "support"},
                LLAMA,
                "ml.g4dn.2xlarge",
                1,
                invocations_per_day=2500,
                age_days=30,
            ),
            # nobody has called it since the experiment ended
            DemoEndpoint(
                "churn-bert-2024",
                {"team": "growth"},
                "s3://acme-ml-models/churn-bert/v1/model.tar.gz",
                "ml.g4dn.xlarge",
                1,
                invocations_per_day=0,
                age_days=120,
            ),
            DemoEndpoint(
                "fraud-xgb",
                {"team": "risk"},
                "s3://acme-ml-models/fraud-xgb/v7/model.tar.gz",
                "ml.m5.xlarge",
                1,
                invocations_per_day=40000,
                age_days=200,
            ),
        ],
        notebooks=[
            DemoNotebook("nb-research-p3", "ml.p3.2xlarge", {"team": "ml-research"}, in_service_days=9),
            DemoNotebook("nb-analyst", "ml.t3.medium", {"owner": "data-science"}, in_service_days=0),
        ],
        nodegroups=[
            DemoNodegroup("ml-platform", "gpu-a10g", "g5.2xlarge", 2, {"team": "platform"}, cpu=2.0, gpu=0.3),
            DemoNodegroup(
                "ml-platform",
                "gpu-train",
                "p3.2xlarge",
                1,
                {"team": "ml-research"},
                cpu=55.0,
                gpu=80.0,
                net_mb_day=6000,
            ),
            DemoNodegroup("ml-platform", "system", "m5.xlarge", 2, {"team": "platform"}, cpu=30.0),
        ],
    ),
}


def _points(per_day: float, days: int, now: datetime) -> list[tuple[datetime, float]]:
    """Six datapoints a day, a deterministic wave around the daily figure (flat when zero)."""
    out = []
    for d in range(days):
        for h in range(6):
            wave = 0.6 + 0.8 * (((d * 7 + h * 3) % 10) / 10.0)
            out.append((now - timedelta(days=d, hours=h * 4 + 1), round(per_day / 6 * wave, 3)))
    return out


def _put(cw: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for start in range(0, len(data), 500):
        cw.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])


def _backdate(region: str, endpoints: dict[str, datetime], notebooks: dict[str, datetime]) -> None:
    """Set creation / last-start times on moto's side (no AWS API sets them)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][region]

    def naive(when: datetime) -> datetime:  # moto keeps naive UTC times
        return when.astimezone(UTC).replace(tzinfo=None)

    for name, when in endpoints.items():
        when = naive(when)
        backend.endpoints[name].creation_time = backend.endpoints[name].last_modified_time = when
    for name, when in notebooks.items():
        nb = backend.notebook_instances[name]
        when = naive(when)
        nb.last_modified_time = when
        nb.creation_time = min(nb.creation_time, when)


def seed_endpoints(region: str, endpoints: list[DemoEndpoint], now: datetime, days: int = 14) -> None:
    sm = boto3.client("sagemaker", region_name=region)
    cw = boto3.client("cloudwatch", region_name=region)
    data: list[dict[str, Any]] = []
    for ep in endpoints:
        tags = [{"Key": k, "Value": v} for k, v in ep.tags.items()]
        sm.create_model(
            ModelName=f"{ep.name}-model",
            ExecutionRoleArn=ROLE,
            Tags=tags,
            PrimaryContainer={"Image": IMAGE, "ModelDataUrl": ep.model_data},
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"{ep.name}-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{ep.name}-model",
                    "InstanceType": ep.instance_type,
                    "InitialInstanceCount": ep.count,
                }
            ],
        )
        sm.create_endpoint(EndpointName=ep.name, EndpointConfigName=f"{ep.name}-config", Tags=tags)
        if ep.invocations_per_day:
            dims = [
                {"Name": "EndpointName", "Value": ep.name},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ]
            data.extend(
                {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": ts, "Value": v, "Unit": "None"}
                for ts, v in _points(ep.invocations_per_day, min(days, ep.age_days), now)
            )
    _put(cw, "AWS/SageMaker", data)
    _backdate(region, {ep.name: now - timedelta(days=ep.age_days) for ep in endpoints}, {})


def seed_notebooks(region: str, notebooks: list[DemoNotebook], now: datetime) -> None:
    sm = boto3.client("sagemaker", region_name=region)
    for nb in notebooks:
        sm.create_notebook_instance(
            NotebookInstanceName=nb.name,
            InstanceType=nb.instance_type,
            RoleArn=ROLE,
            Tags=[{"Key": k, "Value": v} for k, v in nb.tags.items()],
        )
    _backdate(region, {}, {nb.name: now - timedelta(days=nb.in_service_days, hours=1) for nb in notebooks})


def seed_nodegroups(region: str, nodegroups: list[DemoNodegroup], now: datetime, days: int = 14) -> None:
    eks = boto3.client("eks", region_name=region)
    ec2 = boto3.client("ec2", region_name=region)
    cw = boto3.client("cloudwatch", region_name=region)
    image = sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0]
    for cluster in sorted({ng.cluster for ng in nodegroups}):
        eks.create_cluster(name=cluster, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-demo"]})
    ec2_data: list[dict[str, Any]] = []
    gpu_data: list[dict[str, Any]] = []
    for ng in nodegroups:
        eks.create_nodegroup(
            clusterName=ng.cluster,
            nodegroupName=ng.name,
            nodeRole=ROLE,
            subnets=["subnet-demo"],
            instanceTypes=[ng.instance_type],
            tags=ng.tags,
            capacityType="SPOT" if ng.spot else "ON_DEMAND",
            scalingConfig={"minSize": 0, "maxSize": 4, "desiredSize": ng.desired},
        )
        # what EKS itself would launch: the node group's instances, tagged as managed nodes
        node_tags = [
            {"Key": "eks:cluster-name", "Value": ng.cluster},
            {"Key": "eks:nodegroup-name", "Value": ng.name},
            {"Key": f"kubernetes.io/cluster/{ng.cluster}", "Value": "owned"},
            *({"Key": k, "Value": v} for k, v in ng.tags.items()),
        ]
        ids = [
            i["InstanceId"]
            for i in ec2.run_instances(
                ImageId=image,
                MinCount=ng.desired,
                MaxCount=ng.desired,
                InstanceType=ng.instance_type,
                TagSpecifications=[{"ResourceType": "instance", "Tags": node_tags}],
                **({"InstanceMarketOptions": {"MarketType": "spot"}} if ng.spot else {}),
            )["Instances"]
        ]
        for iid in ids:
            dims = [{"Name": "InstanceId", "Value": iid}]
            for ts, v in _points(ng.cpu * 6, days, now):  # _points divides by 6: a % per point
                ec2_data.append(
                    {
                        "MetricName": "CPUUtilization",
                        "Dimensions": dims,
                        "Timestamp": ts,
                        "Value": v,
                        "Unit": "Percent",
                    }
                )
            for ts, v in _points(ng.net_mb_day * 1e6 / 2, days, now):
                for metric in ("NetworkIn", "NetworkOut"):
                    ec2_data.append(
                        {
                            "MetricName": metric,
                            "Dimensions": dims,
                            "Timestamp": ts,
                            "Value": v,
                            "Unit": "Bytes",
                        }
                    )
            if ng.gpu is not None:
                gdims = [*dims, {"Name": "index", "Value": "0"}, {"Name": "name", "Value": "NVIDIA A10G"}]
                gpu_data.extend(
                    {
                        "MetricName": "nvidia_smi_utilization_gpu",
                        "Dimensions": gdims,
                        "Timestamp": ts,
                        "Value": v,
                        "Unit": "Percent",
                    }
                    for ts, v in _points(ng.gpu * 6, days, now)
                )
    _put(cw, "AWS/EC2", ec2_data)
    _put(cw, "CWAgent", gpu_data)


def seed_ml(region: str, now: datetime, estate: MlEstate | None = None) -> None:
    """Seed one region's managed-ML resources (the demo's, unless `estate` is given)."""
    spec = estate if estate is not None else ML_ESTATE.get(region)
    if spec is None:
        return
    seed_endpoints(region, spec.endpoints, now)
    seed_notebooks(region, spec.notebooks, now)
    seed_nodegroups(region, spec.nodegroups, now)
