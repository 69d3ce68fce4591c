"""SageMaker training and processing jobs still InProgress long after they started.

Per region: one paginated ListTrainingJobs and one ListProcessingJobs, both filtered to
`StatusEquals=InProgress` on AWS's side (finished jobs, usually the vast majority, are never
listed), then one DescribeTrainingJob / DescribeProcessingJob per job in progress for its
instances (the summaries carry no instance type or count; SageMaker has no batch describe; the
account's concurrent-job quotas keep this number small).

Cost: the job's instance type x its instance count x the catalog's hourly rate, as a month
(HOURS_PER_MONTH) of what it costs while it keeps running, and `cost_so_far_usd` for the hours
since it started.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems, fan_out
from aifinops_cli.core.models import HOURS_PER_MONTH, Observation
from aifinops_cli.core.timeutil import age_hours
from aifinops_cli.scanners.aws import common

KIND = "aws.sagemaker.job"
SERVICES = {"training": "aws.sagemaker.training", "processing": "aws.sagemaker.processing"}


def _describe(sm: Any, calls: list[tuple[str, str]]) -> list[dict[str, Any]]:
    def one(item: tuple[str, str]) -> dict[str, Any]:
        job_type, name = item
        if job_type == "training":
            return dict(sm.describe_training_job(TrainingJobName=name))
        return dict(sm.describe_processing_job(ProcessingJobName=name))

    done = fan_out(calls, one, workers=8, deadline=None, name="sagemaker-jobs")
    for d in done:
        if d.error is not None:
            raise d.error
    return [d.value or {} for d in done]  # no error: every call answered


def resources_of(job_type: str, job: dict[str, Any]) -> tuple[str, int]:
    if job_type == "training":
        cfg = job.get("ResourceConfig") or {}
        groups = cfg.get("InstanceGroups") or []
        if groups and not cfg.get("InstanceType"):  # heterogeneous cluster: the largest group
            top = max(groups, key=lambda g: int(g.get("InstanceCount") or 0))
            return str(top.get("InstanceType", "")), sum(int(g.get("InstanceCount") or 0) for g in groups)
        return str(cfg.get("InstanceType", "")), int(cfg.get("InstanceCount") or 0)
    cluster = (job.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return str(cluster.get("InstanceType", "")), int(cluster.get("InstanceCount") or 0)


class SageMakerJobScanner(common.RegionalScanner):
    name = "aws.sagemaker_jobs"
    description = "SageMaker training and processing jobs InProgress, priced per instance-hour"
    kinds = (KIND,)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        KIND: (
            "accelerated",
            "cost_so_far_usd",
            "instance_count",
            "instance_type",
            "job_type",
            "max_runtime_hours",
            "running_hours",
            "started_at",
            "status",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        sm = common.client(self.context, session, "sagemaker", region)
        calls: list[tuple[str, str]] = []
        for page in sm.get_paginator("list_training_jobs").paginate(
            StatusEquals="InProgress", MaxResults=100
        ):
            calls.extend(("training", j["TrainingJobName"]) for j in page["TrainingJobSummaries"])
        for page in sm.get_paginator("list_processing_jobs").paginate(
            StatusEquals="InProgress", MaxResults=100
        ):
            calls.extend(("processing", j["ProcessingJobName"]) for j in page["ProcessingJobSummaries"])
        described = _describe(sm, calls) if calls else []
        unpriced: list[dict[str, str]] = []
        out = [
            self._observation(region, t, job, unpriced) for (t, _), job in zip(calls, described, strict=True)
        ]
        running = sum(1 for t, _ in calls if t == "training")
        note = f"{running} training and {len(calls) - running} processing jobs in progress"
        return ScopeItems(out, note, unpriced=unpriced)

    def _observation(
        self, region: str, job_type: str, job: dict[str, Any], unpriced: list[dict[str, str]]
    ) -> Observation:
        ctx = self.context
        name = job.get("TrainingJobName") or job.get("ProcessingJobName") or ""
        arn = job.get("TrainingJobArn") or job.get("ProcessingJobArn") or name
        status = job.get("TrainingJobStatus") or job.get("ProcessingJobStatus")
        itype, count = resources_of(job_type, job)
        started = job.get("TrainingStartTime") or job.get("ProcessingStartTime") or job.get("CreationTime")
        hours = age_hours(started, ctx.now) or 0.0
        service = SERVICES[job_type]
        line = ctx.prices.line(
            service,
            itype,
            region,
            HOURS_PER_MONTH * count,
            f"{itype} {job_type} job x{count}, {HOURS_PER_MONTH:g} h/month each while it runs",
        )
        if line is None:
            unpriced.append({"scanner": self.name, "resource_id": name, "sku": f"{service}:{itype}:{region}"})
        limit = (job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        tags: dict[str, str] = {}
        return Observation(
            provider="aws",
            kind=KIND,
            id=arn,
            account=self.account,
            region=region,
            name=name,
            tags=tags,
            owner=ctx.config.owner_from_tags(tags),
            metrics={
                "running_hours": hours,
                "instance_count": float(count),
                "cost_so_far_usd": round(line.unit_price_usd * count * hours, 2) if line else None,
                "max_runtime_hours": round(float(limit) / 3600, 1) if limit else None,
            },
            attributes={
                "job_type": job_type,
                "status": status,
                "instance_type": itype,
                "accelerated": common.is_accelerated(itype.removeprefix("ml.")),
                "started_at": started.isoformat() if started else None,
            },
            cost_lines=(line,) if line else (),
            evidence=(f"InProgress for {hours:g} h since it started ({job_type} job)",),
        )
