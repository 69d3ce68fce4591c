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
    async_output: str = ""  # set: an asynchronous endpoint writing its results here (s3://)
    backlog: float = 0.0  # async: requests queued (ApproximateBacklogSize) all window


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
class DemoProvisioned:
    """A Bedrock Provisioned Throughput; `custom_base` makes it a fine-tuned model of that base."""

    name: str
    model: str  # a foundation model id, or the base of the custom model when custom_base is set
    units: int
    tags: dict[str, str]
    invocations_per_day: float
    age_days: int
    commitment: str | None = None  # None (no term), "OneMonth" or "SixMonths"
    custom_base: bool = False


@dataclass(frozen=True)
class DemoJob:
    """A SageMaker training or processing job InProgress for `running_hours`."""

    name: str
    job_type: str  # training | processing
    instance_type: str
    count: int
    running_hours: float
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStudioApp:
    """A SageMaker Studio space's app, InService, last used `idle_hours` ago."""

    space: str
    app_type: str  # JupyterLab | CodeEditor | KernelGateway
    instance_type: str
    idle_hours: float
    age_days: int


@dataclass(frozen=True)
class DemoComponent:
    """An inference component on endpoint `endpoint` (variant AllTraffic): `copies` copies of a
    model, each reserving `accelerators` accelerators and `memory_mb` of memory."""

    name: str
    endpoint: str
    copies: int
    accelerators: int
    memory_mb: int
    invocations_per_day: float
    age_days: int


@dataclass(frozen=True)
class MlEstate:
    endpoints: list[DemoEndpoint] = field(default_factory=list)
    notebooks: list[DemoNotebook] = field(default_factory=list)
    nodegroups: list[DemoNodegroup] = field(default_factory=list)
    provisioned: list[DemoProvisioned] = field(default_factory=list)
    jobs: list[DemoJob] = field(default_factory=list)
    studio_apps: list[DemoStudioApp] = field(default_factory=list)
    components: list[DemoComponent] = field(default_factory=list)
    component_hosts: list[DemoEndpoint] = field(default_factory=list)  # seeded with the components


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
        provisioned=[
            # a fine-tuned Titan Lite for ticket triage, provisioned without a term for a pilot
            # three weeks ago and never called since: 1 MU x 7.10 x 730 = 5,183.00 a month
            DemoProvisioned(
                "support-triage-ft",
                "amazon.titan-text-lite-v1",
                1,
                {"team": "support"},
                invocations_per_day=0,
                age_days=21,
                custom_base=True,
            ),
            # the help-center assistant's committed capacity, busy: no finding
            DemoProvisioned(
                "cx-helpcenter-pt",
                "anthropic.claude-instant-v1",
                1,
                {"team": "cx"},
                invocations_per_day=42000,
                age_days=60,
                commitment="SixMonths",
            ),
        ],
        jobs=[
            # a fine-tuning sweep stuck for four days: 2 x 0.94 x 730 = 1,372.40 a month
            DemoJob("research-llama-sweep-07", "training", "ml.g4dn.2xlarge", 2, 96.0, {"team": "research"}),
            # a feature backfill running for three days: 0.922 x 730 = 673.06 a month
            DemoJob("growth-feature-backfill", "processing", "ml.m5.4xlarge", 1, 72.0, {"team": "growth"}),
            # started this morning: not past the threshold
            DemoJob("search-reranker-train", "training", "ml.g4dn.xlarge", 1, 5.0, {"team": "search"}),
        ],
        component_hosts=[
            # the platform team's shared 4-GPU endpoint, hosting the inference components below
            DemoEndpoint(
                "platform-llm-shared",
                {"team": "platform"},
                "s3://acme-ml-models/shared-host/v1/model.tar.gz",
                "ml.g4dn.12xlarge",
                1,
                invocations_per_day=30000,
                age_days=50,
            ),
        ],
        components=[
            # two copies of a summariser, one T4 each, never called since the pilot: 2 x 1/4 of an
            # ml.g4dn.12xlarge: 4.89 x 730 x 0.5 = 1,784.85 a month
            DemoComponent("support-summarizer-ic", "platform-llm-shared", 2, 1, 8192, 0, 40),
            DemoComponent("search-reranker-ic", "platform-llm-shared", 2, 1, 8192, 30000, 50),
        ],
        studio_apps=[
            # a GPU JupyterLab space nobody has touched since Friday: 1.408 x 730 = 1,027.84 a month
            DemoStudioApp("research-llm-evals", "JupyterLab", "ml.g5.xlarge", idle_hours=70.0, age_days=12),
            # used two hours ago: no finding
            DemoStudioApp("cx-analytics", "CodeEditor", "ml.t3.medium", idle_hours=2.0, age_days=30),
        ],
    ),
}


# The public image the demo's instances launch from. It is not registered in moto: the demo turns
# moto's catalog of ~1,300 Amazon images a region off (MOTO_EC2_LOAD_DEFAULT_AMIS=false in
# demo.aws._DEMO_ENV), because that catalog changes between moto releases and each of its images
# brings a snapshot that moto lists whatever OwnerIds says; with it on, the demo's ids and counts
# depended on the moto installed. moto launches from an unknown image id (its AMI validation is
# off unless MOTO_ENABLE_AMI_VALIDATION is set).
DEMO_BASE_IMAGE = "ami-0a1f0d3ee0c0ffee0"  # the same in every region


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
        extra: dict[str, Any] = {}
        if ep.async_output:
            extra["AsyncInferenceConfig"] = {"OutputConfig": {"S3OutputPath": ep.async_output}}
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
            **extra,
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
        if ep.backlog:
            data.extend(
                {
                    "MetricName": "ApproximateBacklogSize",
                    "Dimensions": [{"Name": "EndpointName", "Value": ep.name}],
                    "Timestamp": ts,
                    "Value": ep.backlog,
                    "Unit": "None",
                }
                for ts, _ in _points(1, min(days, ep.age_days), now)
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
    image = DEMO_BASE_IMAGE
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


def seed_bedrock(region: str, provisioned: list[DemoProvisioned], now: datetime, days: int = 14) -> None:
    """Provisioned models through the Bedrock API (moto's Bedrock extended with it:
    demo/fakes/aws_extra.py) and their AWS/Bedrock Invocations (dimension ModelId = the ARN)."""
    from aifinops_cli.demo.fakes.aws_extra import backdate_provisioned, install

    install()
    if not provisioned:
        return
    bedrock = boto3.client("bedrock", region_name=region)
    cw = boto3.client("cloudwatch", region_name=region)
    data: list[dict[str, Any]] = []
    for pt in provisioned:
        model = pt.model
        if pt.custom_base:
            bedrock.create_model_customization_job(
                jobName=f"{pt.name}-job",
                customModelName=f"{pt.name}-model",
                roleArn=ROLE,
                baseModelIdentifier=f"arn:aws:bedrock:{region}::foundation-model/{pt.model}",
                trainingDataConfig={"s3Uri": f"s3://acme-ml-data/{pt.name}/train.jsonl"},
                outputDataConfig={"s3Uri": f"s3://acme-ml-models/{pt.name}/"},
                hyperParameters={"epochCount": "2"},
            )
            model = bedrock.get_custom_model(modelIdentifier=f"{pt.name}-model")["modelArn"]
        kwargs: dict[str, Any] = {"commitmentDuration": pt.commitment} if pt.commitment else {}
        arn = bedrock.create_provisioned_model_throughput(
            provisionedModelName=pt.name,
            modelId=model,
            modelUnits=pt.units,
            tags=[{"key": k, "value": v} for k, v in pt.tags.items()],
            **kwargs,
        )["provisionedModelArn"]
        backdate_provisioned(region, pt.name, now - timedelta(days=pt.age_days))
        if pt.invocations_per_day:
            dims = [{"Name": "ModelId", "Value": arn}]
            data.extend(
                {
                    "MetricName": "Invocations",
                    "Dimensions": dims,
                    "Timestamp": ts,
                    "Value": v,
                    "Unit": "Count",
                }
                for ts, v in _points(pt.invocations_per_day, min(days, pt.age_days), now)
            )
    _put(cw, "AWS/Bedrock", data)


def seed_jobs(region: str, jobs: list[DemoJob], now: datetime) -> None:
    """Training and processing jobs through the SageMaker API; moto finishes every job at once, so
    its records are set back to InProgress since `running_hours` ago (no API does that)."""
    if not jobs:
        return
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    sm = boto3.client("sagemaker", region_name=region)
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][region]
    for job in jobs:
        tags = [{"Key": k, "Value": v} for k, v in job.tags.items()]
        started = (now - timedelta(hours=job.running_hours)).astimezone(UTC).replace(tzinfo=None)
        if job.job_type == "training":
            sm.create_training_job(
                TrainingJobName=job.name,
                AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
                RoleArn=ROLE,
                OutputDataConfig={"S3OutputPath": f"s3://acme-ml-models/{job.name}/"},
                ResourceConfig={
                    "InstanceType": job.instance_type,
                    "InstanceCount": job.count,
                    "VolumeSizeInGB": 200,
                },
                StoppingCondition={"MaxRuntimeInSeconds": 5 * 86400},
                Tags=tags,
            )
            record = backend.training_jobs[job.name]
            record.training_job_status = record.secondary_status = "InProgress"
            record.creation_time = record.last_modified_time = record.training_start_time = started
            record.training_end_time = None
        else:
            sm.create_processing_job(
                ProcessingJobName=job.name,
                AppSpecification={"ImageUri": IMAGE},
                ProcessingResources={
                    "ClusterConfig": {
                        "InstanceType": job.instance_type,
                        "InstanceCount": job.count,
                        "VolumeSizeInGB": 100,
                    }
                },
                RoleArn=ROLE,
                StoppingCondition={"MaxRuntimeInSeconds": 5 * 86400},
                Tags=tags,
            )
            record = backend.processing_jobs[job.name]
            # moto drops ProcessingResources from its record: keep what was asked for
            record.processing_resources = {
                "ClusterConfig": {
                    "InstanceType": job.instance_type,
                    "InstanceCount": job.count,
                    "VolumeSizeInGB": 100,
                }
            }
            record.processing_job_status = "InProgress"
            record.creation_time = record.last_modified_time = started
            record.processing_end_time = None


def seed_studio(region: str, apps: list[DemoStudioApp], now: datetime) -> None:
    """A Studio domain (moto's CreateDomain) and its spaces' apps (CreateApp, added to moto by
    demo/fakes/aws_extra.py), with their last user activity set on moto's side."""
    if not apps:
        return
    from aifinops_cli.demo.fakes.aws_extra import install, set_app_times

    install()
    sm = boto3.client("sagemaker", region_name=region)
    domain = sm.create_domain(
        DomainName="acme-ml",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        SubnetIds=["subnet-demo"],
        VpcId="vpc-demo",
    )["DomainArn"].rsplit("/", 1)[-1]
    for app in apps:
        sm.create_app(
            DomainId=domain,
            SpaceName=app.space,
            AppType=app.app_type,
            AppName="default",
            ResourceSpec={"InstanceType": app.instance_type},
        )
        set_app_times(
            region,
            domain,
            app.space,
            app.app_type,
            "default",
            created=now - timedelta(days=app.age_days),
            active=now - timedelta(hours=app.idle_hours),
        )


def seed_components(region: str, components: list[DemoComponent], now: datetime, days: int = 14) -> None:
    """Inference components through the SageMaker API (added to moto by demo/fakes/aws_extra.py)
    on endpoints seeded before, and their Invocations (dimension InferenceComponentName)."""
    if not components:
        return
    from aifinops_cli.demo.fakes.aws_extra import backdate_component, install

    install()
    sm = boto3.client("sagemaker", region_name=region)
    cw = boto3.client("cloudwatch", region_name=region)
    data: list[dict[str, Any]] = []
    for ic in components:
        sm.create_inference_component(
            InferenceComponentName=ic.name,
            EndpointName=ic.endpoint,
            VariantName="AllTraffic",
            Specification={
                "ModelName": f"{ic.name}-model",
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": ic.accelerators,
                    "MinMemoryRequiredInMb": ic.memory_mb,
                },
            },
            RuntimeConfig={"CopyCount": ic.copies},
        )
        backdate_component(region, ic.name, now - timedelta(days=ic.age_days))
        if ic.invocations_per_day:
            dims = [{"Name": "InferenceComponentName", "Value": ic.name}]
            data.extend(
                {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": ts, "Value": v, "Unit": "None"}
                for ts, v in _points(ic.invocations_per_day, min(days, ic.age_days), now)
            )
    _put(cw, "AWS/SageMaker", data)


def seed_ml(region: str, now: datetime, estate: MlEstate | None = None, ai: bool = True) -> None:
    """Seed one region's managed-ML resources (the demo's, unless `estate` is given); `ai=False`
    leaves out the issue-15 parts (seed_ml_ai), which the demo seeds after every region so that
    the other resources keep the ids moto's seeded random numbers gave them before."""
    spec = estate if estate is not None else ML_ESTATE.get(region)
    if spec is None:
        return
    seed_endpoints(region, spec.endpoints, now)
    seed_notebooks(region, spec.notebooks, now)
    seed_nodegroups(region, spec.nodegroups, now)
    if ai:
        seed_ml_ai(region, now, spec)


def seed_ml_ai(region: str, now: datetime, estate: MlEstate | None = None) -> None:
    """Bedrock Provisioned Throughput, SageMaker jobs, Studio apps and inference components."""
    spec = estate if estate is not None else ML_ESTATE.get(region)
    if spec is None:
        return
    seed_bedrock(region, spec.provisioned, now)
    seed_jobs(region, spec.jobs, now)
    seed_studio(region, spec.studio_apps, now)
    seed_endpoints(region, spec.component_hosts, now)
    seed_components(region, spec.components, now)
