"""Local fakes of the two price-list APIs, answering their real JSON shapes on loopback.

AWS Price List (`AWSPriceListService.GetProducts`, JSON 1.1 protocol): a POST whose
`X-Amz-Target` names the operation; the answer's `PriceList` holds one JSON *string* per
product, with `product.attributes`, `terms.OnDemand.<offer>.priceDimensions.<rate>.pricePerUnit
.USD` and `publicationDate`, as AWS documents it. Filters: TERM_MATCH/EQUALS and ANY_OF
(comma-separated values); pages of `MaxResults` with an opaque `NextToken`.

Cloud Billing Catalog (`GET /v1/services/{service}/skus`): `skus[]` with `description`,
`category.{resourceFamily,resourceGroup,usageType}`, `serviceRegions`, and
`pricingInfo[].pricingExpression.{usageUnit,tieredRates[].unitPrice{units,nanos}}`,
`pricingInfo[].effectiveTime`; pages of `pageSize` with `nextPageToken`.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from aifinops_cli.demo.fakes.server import serving

COMPUTE_SERVICE = "6F81-5844-456A"


def aws_product(
    instance_or_volume: str,
    region: str,
    usd: float,
    *,
    family: str = "Compute Instance",
    unit: str = "Hrs",
    published: str = "2026-11-20T21:04:30Z",
    sku_field: str = "instanceType",
    extra: dict[str, str] | None = None,
    service_code: str = "AmazonEC2",
) -> dict[str, Any]:
    """One product of a price list (EC2 by default), as GetProducts returns it (before
    JSON-encoding)."""
    key = "|".join((instance_or_volume, region, family)).encode()
    sku = f"SKU{zlib.crc32(key) % 10**8:08d}"
    attrs = {"servicecode": service_code, "regionCode": region, sku_field: instance_or_volume}
    if family == "Compute Instance":
        attrs.update(
            {
                "operatingSystem": "Linux",
                "tenancy": "Shared",
                "preInstalledSw": "NA",
                "capacitystatus": "Used",
                "licenseModel": "No License required",
            }
        )
    attrs.update(extra or {})
    return {
        "product": {"productFamily": family, "attributes": attrs, "sku": sku},
        "serviceCode": service_code,
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "offerTermCode": "JRTCKXETXF",
                    "sku": sku,
                    "effectiveDate": "2026-11-01T00:00:00Z",
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": unit,
                            "description": f"${usd} per unit",
                            "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                            "pricePerUnit": {"USD": f"{usd:.10f}"},
                            "appliesTo": [],
                            "beginRange": "0",
                            "endRange": "Inf",
                        }
                    },
                    "termAttributes": {},
                }
            }
        },
        "version": "20261120210430",
        "publicationDate": published,
    }


def gcp_sku(
    description: str,
    group: str,
    usage: str,
    regions: list[str],
    usd: float,
    unit: str,
    effective: str = "2026-11-15T08:00:00Z",
) -> dict[str, Any]:
    units, nanos = int(usd), round((usd - int(usd)) * 1e9)
    return {
        "name": f"services/{COMPUTE_SERVICE}/skus/{zlib.crc32(description.encode()) % 10**12:012d}",
        "skuId": f"{zlib.crc32(description.encode()) % 10**12:012d}",
        "description": description,
        "category": {
            "serviceDisplayName": "Compute Engine",
            "resourceFamily": "Compute" if group not in ("SSD", "PDStandard") else "Storage",
            "resourceGroup": group,
            "usageType": usage,
        },
        "serviceRegions": regions,
        "pricingInfo": [
            {
                "effectiveTime": effective,
                "summary": "",
                "pricingExpression": {
                    "usageUnit": unit,
                    "displayQuantity": 1,
                    "usageUnitDescription": unit,
                    "baseUnit": unit,
                    "tieredRates": [
                        {
                            "startUsageAmount": 0,
                            "unitPrice": {"currencyCode": "USD", "units": str(units), "nanos": nanos},
                        }
                    ],
                },
                "currencyConversionRate": 1,
            }
        ],
        "serviceProviderName": "Google",
    }


@dataclass
class PriceApis:
    aws_products: list[dict[str, Any]] = field(default_factory=list)
    gcp_skus: list[dict[str, Any]] = field(default_factory=list)
    deny_aws: bool = False
    deny_gcp: bool = False
    page_size: int = 100
    any_of_matches_nothing: bool = False  # a server that reads ANY_OF values otherwise
    calls: list[tuple[str, str]] = field(default_factory=list)  # (api, what)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, api: str) -> int:
        return sum(1 for a, _ in self.calls if a == api)

    def _aws(self, target: str, body: dict[str, Any]) -> tuple[int, Any]:
        if target != "AWSPriceListService.GetProducts":
            return 400, {"__type": "InvalidParameterException", "message": target}
        with self.lock:
            self.calls.append(("aws", json.dumps(body.get("Filters", []), sort_keys=True)))
        if self.deny_aws:
            return 400, {
                "__type": "AccessDeniedException",
                "Message": "User is not authorized to perform: pricing:GetProducts",
            }
        match = [
            p
            for p in self.aws_products
            if p["serviceCode"] == body.get("ServiceCode")
            and _matches(p, body.get("Filters", []), self.any_of_matches_nothing)
        ]
        start = int(body.get("NextToken") or 0)
        size = min(int(body.get("MaxResults") or 100), self.page_size)
        page = match[start : start + size]
        out: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(p) for p in page]}
        if start + size < len(match):
            out["NextToken"] = str(start + size)
        return 200, out

    def _gcp(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        with self.lock:
            self.calls.append(("gcp", path))
        if self.deny_gcp:
            return 403, {
                "error": {
                    "code": 403,
                    "status": "PERMISSION_DENIED",
                    "message": "Cloud Billing API has not been used in project 1",
                }
            }
        if path != f"/v1/services/{COMPUTE_SERVICE}/skus":
            return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": path}}
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        size = min(int((query.get("pageSize") or ["5000"])[0]), self.page_size)
        page = self.gcp_skus[start : start + size]
        out: dict[str, Any] = {"skus": page}
        if start + size < len(self.gcp_skus):
            out["nextPageToken"] = str(start + size)
        return 200, out


def _matches(product: dict[str, Any], filters: list[dict[str, str]], no_any_of: bool = False) -> bool:
    attrs = dict(product["product"]["attributes"], productFamily=product["product"]["productFamily"])
    for f in filters:
        value = attrs.get(f["Field"])
        if f["Type"] in ("TERM_MATCH", "EQUALS") and value != f["Value"]:
            return False
        if f["Type"] == "ANY_OF" and (no_any_of or value not in f["Value"].split(",")):
            return False
    return True


@contextmanager
def serve_price_apis(apis: PriceApis) -> Iterator[str]:
    """Both fakes on one loopback port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, doc: Any, ctype: str) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, doc = apis._aws(self.headers.get("X-Amz-Target", ""), body)
            self._send(status, doc, "application/x-amz-json-1.1")

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            status, doc = apis._gcp(parsed.path, parse_qs(parsed.query))
            self._send(status, doc, "application/json")

    with serving(Handler, "price-apis") as url:
        yield url
