"""The far end for the AWS operations moto (5.2) does not implement, added to moto itself.

moto has a Bedrock backend but no Provisioned Throughput API (CreateProvisionedModelThroughput,
ListProvisionedModelThroughputs, GetProvisionedModelThroughput). `install()` teaches moto's
Bedrock responder those three operations, answering the documented restJson1 shapes of the
Bedrock control-plane API reference (a summary per provisioned model: provisionedModelName/Arn,
modelArn, foundationModelArn, modelUnits, desiredModelUnits, status, commitmentDuration,
commitmentExpirationTime, creationTime, lastModifiedTime). moto routes every `bedrock.*` path to
that responder and finds the operation from botocore's own service model, so the scanners talk to
it through the ordinary boto3 client, exactly as to AWS; in-process `mock_aws` (the demo) and the
threaded moto server (the tests, bench) both get it. State lives on moto's regional backend, so
moto's reset clears it.

moto's SageMaker has no Studio apps API either (CreateApp, ListApps, DescribeApp), nor inference
components (CreateInferenceComponent, ListInferenceComponents, DescribeInferenceComponent):
`install()` adds those to its SageMaker responder (JSON 1.1, the shapes of the SageMaker API
reference: AppDetails summaries; DescribeApp with LastUserActivityTimestamp and LastHealthCheckTimestamp;
InferenceComponentSummary; DescribeInferenceComponent with Specification and RuntimeConfig).

`backdate_provisioned(region, name, when)` sets creation time (and so the end of a term) on moto's
side (no API does).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

_PT_ATTR = "_aifinops_provisioned"
# how long the fake's terms run (AWS ends a term a calendar month / six months after purchase)
TERM_DAYS = {"OneMonth": timedelta(days=30), "SixMonths": timedelta(days=180)}


def _store(backend: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] | None = backend.__dict__.get(_PT_ATTR)
    if found is None:
        found = {}
        backend.__dict__[_PT_ATTR] = found
    return found


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def install() -> None:
    """Add the Provisioned Throughput operations to moto's Bedrock (idempotent)."""
    from moto.bedrock.models import BedrockBackend
    from moto.bedrock.responses import BedrockResponse

    if getattr(BedrockResponse, "_aifinops_extra", False):
        return

    original_arns = BedrockBackend._list_arns

    def list_arns(self: Any) -> list[str]:  # tags on provisioned models, too
        return [*original_arns(self), *(p["provisionedModelArn"] for p in _store(self).values())]

    def create(self: Any) -> str:
        params = json.loads(self.body)
        backend = self.bedrock_backend
        name = params["provisionedModelName"]
        model_id = params["modelId"]
        arn = f"arn:aws:bedrock:{self.region}:{self.current_account}:provisioned-model/{name}"
        if model_id.startswith("arn:"):
            model_arn = model_id
            custom = next((m for m in backend.custom_models.values() if m.model_arn == model_id), None)
            base = custom.base_model_arn if custom is not None else model_id
            # moto's custom model prefixes a full base-model ARN with the prefix again
            base = (
                f"arn:aws:bedrock:{self.region}::foundation-model/" + base.rsplit("foundation-model/", 1)[-1]
            )
        else:
            model_arn = base = f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}"
        now = datetime.now(UTC)
        record: dict[str, Any] = {
            "provisionedModelName": name,
            "provisionedModelArn": arn,
            "modelArn": model_arn,
            "desiredModelArn": model_arn,
            "foundationModelArn": base,
            "modelUnits": int(params["modelUnits"]),
            "desiredModelUnits": int(params["modelUnits"]),
            "status": "InService",
            "creationTime": now,
            "lastModifiedTime": now,
        }
        if params.get("commitmentDuration"):
            record["commitmentDuration"] = params["commitmentDuration"]
            record["commitmentExpirationTime"] = now + TERM_DAYS[params["commitmentDuration"]]
        _store(backend)[name] = record
        if params.get("tags"):
            backend.tagger.tag_resource(arn, [{"Key": t["key"], "Value": t["value"]} for t in params["tags"]])
        return json.dumps({"provisionedModelArn": arn})

    def summary(record: dict[str, Any]) -> dict[str, Any]:
        return {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in record.items()}

    def list_pt(self: Any) -> str:
        records = sorted(_store(self.bedrock_backend).values(), key=lambda r: r["provisionedModelName"])
        status = self._get_param("statusEquals")
        if status:
            records = [r for r in records if r["status"] == status]
        start = int(self._get_param("nextToken") or 0)
        size = int(self._get_param("maxResults") or 1000)
        page = records[start : start + size]
        answer: dict[str, Any] = {"provisionedModelSummaries": [summary(r) for r in page]}
        if start + size < len(records):
            answer["nextToken"] = str(start + size)
        return json.dumps(answer)

    def get_pt(self: Any) -> str:
        ident = self.path.split("?")[0].rstrip("/").split("/")[-1]
        from urllib.parse import unquote

        ident = unquote(ident)
        for r in _store(self.bedrock_backend).values():
            if ident in (r["provisionedModelName"], r["provisionedModelArn"]):
                return json.dumps(summary(r))
        from moto.bedrock.exceptions import ResourceNotFoundException

        raise ResourceNotFoundException(f"Provisioned model {ident} not found")

    _install_studio_apps()
    BedrockBackend._list_arns = list_arns  # type: ignore[method-assign]
    BedrockResponse.create_provisioned_model_throughput = create  # type: ignore[attr-defined]
    BedrockResponse.list_provisioned_model_throughputs = list_pt  # type: ignore[attr-defined]
    BedrockResponse.get_provisioned_model_throughput = get_pt  # type: ignore[attr-defined]
    BedrockResponse._aifinops_extra = True  # type: ignore[attr-defined]


_APPS_ATTR = "_aifinops_apps"


def _apps(backend: Any) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    found: dict[tuple[str, str, str, str], dict[str, Any]] | None = backend.__dict__.get(_APPS_ATTR)
    if found is None:
        found = {}
        backend.__dict__[_APPS_ATTR] = found
    return found


def _app_key(params: dict[str, Any]) -> tuple[str, str, str, str]:
    owner = params.get("SpaceName") or params.get("UserProfileName") or ""
    return (params["DomainId"], owner, params["AppType"], params["AppName"])


def _epoch(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in record.items()}


def _install_studio_apps() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    def create_app(self: Any) -> str:
        params = json.loads(self.body)
        backend = self.sagemaker_backend
        owner = params.get("SpaceName") or params.get("UserProfileName") or ""
        arn = (
            f"arn:aws:sagemaker:{self.region}:{self.current_account}:app/{params['DomainId']}/{owner}/"
            f"{params['AppType'].lower()}/{params['AppName']}"
        )
        now = datetime.now(UTC)
        record: dict[str, Any] = {
            "AppArn": arn,
            "DomainId": params["DomainId"],
            "AppType": params["AppType"],
            "AppName": params["AppName"],
            "Status": "InService",
            "CreationTime": now,
            "LastHealthCheckTimestamp": now,
            "LastUserActivityTimestamp": now,
            "ResourceSpec": params.get("ResourceSpec") or {},
        }
        for key in ("UserProfileName", "SpaceName"):
            if params.get(key):
                record[key] = params[key]
        _apps(backend)[_app_key(params)] = record
        return json.dumps({"AppArn": arn})

    summary_keys = (
        "DomainId",
        "UserProfileName",
        "SpaceName",
        "AppType",
        "AppName",
        "Status",
        "CreationTime",
        "ResourceSpec",
    )

    def list_apps(self: Any) -> str:
        params = json.loads(self.body or "{}")
        records = sorted(_apps(self.sagemaker_backend).values(), key=lambda r: r["AppArn"])
        if params.get("DomainIdEquals"):
            records = [r for r in records if r["DomainId"] == params["DomainIdEquals"]]
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 100)
        page = records[start : start + size]
        answer: dict[str, Any] = {"Apps": [_epoch({k: r[k] for k in summary_keys if k in r}) for r in page]}
        if start + size < len(records):
            answer["NextToken"] = str(start + size)
        return json.dumps(answer)

    def describe_app(self: Any) -> str:
        params = json.loads(self.body)
        record = _apps(self.sagemaker_backend).get(_app_key(params))
        if record is None:
            from moto.sagemaker.exceptions import ResourceNotFound

            raise ResourceNotFound(f"App {params['AppName']} does not exist")
        return json.dumps(_epoch(record))

    _install_inference_components()
    SageMakerResponse.create_app = create_app  # type: ignore[attr-defined]
    SageMakerResponse.list_apps = list_apps  # type: ignore[attr-defined]
    SageMakerResponse.describe_app = describe_app  # type: ignore[attr-defined]


_IC_ATTR = "_aifinops_inference_components"


def _components(backend: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] | None = backend.__dict__.get(_IC_ATTR)
    if found is None:
        found = {}
        backend.__dict__[_IC_ATTR] = found
    return found


def _install_inference_components() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    def create(self: Any) -> str:
        params = json.loads(self.body)
        backend = self.sagemaker_backend
        name = params["InferenceComponentName"]
        endpoint = backend.endpoints[params["EndpointName"]]  # KeyError: moto answers 500, as a bug
        arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:inference-component/{name}"
        copies = int((params.get("RuntimeConfig") or {}).get("CopyCount") or 1)
        now = datetime.now(UTC)
        _components(backend)[name] = {
            "InferenceComponentName": name,
            "InferenceComponentArn": arn,
            "EndpointName": params["EndpointName"],
            "EndpointArn": endpoint.arn,
            "VariantName": params["VariantName"],
            "Specification": params.get("Specification") or {},
            "RuntimeConfig": {"DesiredCopyCount": copies, "CurrentCopyCount": copies},
            "InferenceComponentStatus": "InService",
            "CreationTime": now,
            "LastModifiedTime": now,
        }
        return json.dumps({"InferenceComponentArn": arn})

    summary_keys = (
        "CreationTime",
        "InferenceComponentArn",
        "InferenceComponentName",
        "EndpointArn",
        "EndpointName",
        "VariantName",
        "InferenceComponentStatus",
        "LastModifiedTime",
    )

    def list_components(self: Any) -> str:
        params = json.loads(self.body or "{}")
        records = sorted(
            _components(self.sagemaker_backend).values(), key=lambda r: r["InferenceComponentName"]
        )
        if params.get("EndpointNameEquals"):
            records = [r for r in records if r["EndpointName"] == params["EndpointNameEquals"]]
        if params.get("StatusEquals"):
            records = [r for r in records if r["InferenceComponentStatus"] == params["StatusEquals"]]
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 100)
        page = records[start : start + size]
        answer: dict[str, Any] = {
            "InferenceComponents": [_epoch({k: r[k] for k in summary_keys}) for r in page]
        }
        if start + size < len(records):
            answer["NextToken"] = str(start + size)
        return json.dumps(answer)

    def describe_component(self: Any) -> str:
        params = json.loads(self.body)
        record = _components(self.sagemaker_backend).get(params["InferenceComponentName"])
        if record is None:
            from moto.sagemaker.exceptions import ValidationError

            raise ValidationError(f"Could not find inference component {params['InferenceComponentName']}")
        return json.dumps(_epoch(record))

    SageMakerResponse.create_inference_component = create  # type: ignore[attr-defined]
    SageMakerResponse.list_inference_components = list_components  # type: ignore[attr-defined]
    SageMakerResponse.describe_inference_component = describe_component  # type: ignore[attr-defined]


def backdate_component(region: str, name: str, when: datetime) -> None:
    """Set an inference component's creation time on moto's side (no API does)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    record = _components(sagemaker_backends[DEFAULT_ACCOUNT_ID][region])[name]
    record["CreationTime"] = record["LastModifiedTime"] = when


def set_app_times(
    region: str, domain: str, owner: str, app_type: str, name: str, created: datetime, active: datetime
) -> None:
    """Set a Studio app's creation and last user activity on moto's side (no API does)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sagemaker.models import sagemaker_backends

    record = _apps(sagemaker_backends[DEFAULT_ACCOUNT_ID][region])[(domain, owner, app_type, name)]
    record["CreationTime"] = created
    record["LastUserActivityTimestamp"] = active


def backdate_provisioned(region: str, name: str, when: datetime, account: str | None = None) -> None:
    """Set a provisioned model's creation time on moto's side (no AWS API sets it)."""
    from moto.bedrock.models import bedrock_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    record = _store(bedrock_backends[account or DEFAULT_ACCOUNT_ID][region])[name]
    if "commitmentExpirationTime" in record:  # the term started when the model was bought
        record["commitmentExpirationTime"] = when + TERM_DAYS[record["commitmentDuration"]]
    record["creationTime"] = record["lastModifiedTime"] = when
