"""SageMaker Studio apps (JupyterLab, Code Editor, KernelGateway) left running with no one using them.

Per region: one paginated ListApps (every domain: AppDetails carry the app's type, status and
instance), then one DescribeApp per InService app on a billed instance, for its
LastUserActivityTimestamp (SageMaker has no batch describe). JupyterServer apps and apps on the
`system` instance run on SageMaker's own free instance and are not listed.

Price: the app's ml.* instance per hour x HOURS_PER_MONTH. Studio JupyterLab / Code Editor
instances bill at the same per-instance-hour rates as notebook instances on the SageMaker pricing
page, so the `aws.sagemaker.notebook` catalog rows price them (one place for the fact).
"""

from __future__ import annotations

from typing import Any, ClassVar

from aifinops_cli.core.fanout import ScopeItems, fan_out
from aifinops_cli.core.models import HOURS_PER_MONTH, Observation
from aifinops_cli.core.timeutil import age_days, age_hours
from aifinops_cli.scanners.aws import common

KIND = "aws.sagemaker.studio_app"
SERVICE = "aws.sagemaker.notebook"  # Studio instances bill at the notebook instance rates
BILLED_APP_TYPES = {"JupyterLab", "CodeEditor", "KernelGateway", "RStudioServerPro", "Canvas"}


def _describe(sm: Any, apps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def one(app: dict[str, Any]) -> dict[str, Any]:
        who = {"SpaceName": app["SpaceName"]} if app.get("SpaceName") else {}
        if not who and app.get("UserProfileName"):
            who = {"UserProfileName": app["UserProfileName"]}
        return dict(
            sm.describe_app(DomainId=app["DomainId"], AppType=app["AppType"], AppName=app["AppName"], **who)
        )

    done = fan_out(apps, one, workers=8, deadline=None, name="sagemaker-apps")
    for d in done:
        if d.error is not None:
            raise d.error
    return [d.value or {} for d in done]  # no error: every call answered


class SageMakerStudioScanner(common.RegionalScanner):
    name = "aws.sagemaker_studio"
    description = "SageMaker Studio apps InService on ml.* instances, with their last user activity"
    kinds = (KIND,)
    # the fields (metrics and attributes) each kind carries: rules are checked against them
    fields: ClassVar[dict[str, tuple[str, ...]]] = {
        KIND: (
            "accelerated",
            "activity_known",
            "age_days",
            "app_type",
            "domain_id",
            "idle_hours",
            "instance_type",
            "last_activity_at",
            "space",
            "status",
            "user_profile",
        ),
    }

    def scan_region(self, session: Any, region: str) -> ScopeItems:
        sm = common.client(self.context, session, "sagemaker", region)
        apps = [a for page in sm.get_paginator("list_apps").paginate(MaxResults=100) for a in page["Apps"]]
        billed = [
            a
            for a in apps
            if a.get("Status") == "InService"
            and a.get("AppType") in BILLED_APP_TYPES
            and str((a.get("ResourceSpec") or {}).get("InstanceType", "")).startswith("ml.")
        ]
        described = _describe(sm, billed) if billed else []
        unpriced: list[dict[str, str]] = []
        out = [self._observation(region, app, unpriced) for app in described]
        note = f"{len(apps)} Studio apps ({len(billed)} InService on billed instances)"
        return ScopeItems(out, note, unpriced=unpriced)

    def _observation(self, region: str, app: dict[str, Any], unpriced: list[dict[str, str]]) -> Observation:
        ctx = self.context
        itype = str((app.get("ResourceSpec") or {}).get("InstanceType", ""))
        line = ctx.prices.line(
            SERVICE,
            itype,
            region,
            HOURS_PER_MONTH,
            f"{itype} Studio {app.get('AppType')} app, {HOURS_PER_MONTH:g} h/month",
        )
        owner_name = app.get("SpaceName") or app.get("UserProfileName") or ""
        ident = app.get("AppArn") or f"{app.get('DomainId')}/{owner_name}/{app.get('AppName')}"
        if line is None:
            unpriced.append(
                {"scanner": self.name, "resource_id": ident, "sku": f"{SERVICE}:{itype}:{region}"}
            )
        active = app.get("LastUserActivityTimestamp")
        since = active or app.get("CreationTime")
        return Observation(
            provider="aws",
            kind=KIND,
            id=ident,
            account=self.account,
            region=region,
            name=f"{owner_name}/{app.get('AppName')}" if owner_name else str(app.get("AppName")),
            metrics={
                "idle_hours": age_hours(since, ctx.now),
                "age_days": age_days(app.get("CreationTime"), ctx.now),
            },
            attributes={
                "status": app.get("Status"),
                "app_type": app.get("AppType"),
                "instance_type": itype,
                "accelerated": common.is_accelerated(itype.removeprefix("ml.")),
                "domain_id": app.get("DomainId"),
                "space": app.get("SpaceName"),
                "user_profile": app.get("UserProfileName"),
                "activity_known": active is not None,
                "last_activity_at": active.isoformat() if active else None,
            },
            cost_lines=(line,) if line else (),
            evidence=(
                "idle since the app's LastUserActivityTimestamp (DescribeApp); without one, since "
                "it was created",
            ),
        )
