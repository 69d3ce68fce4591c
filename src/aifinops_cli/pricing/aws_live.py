"""The AWS Price List API (`pricing:GetProducts`), asked for the SKUs a scan saw.

Read-only and global: the API is served from us-east-1 (and ap-south-1) whatever region is
scanned. Per region, one paginated call for the instance types seen (`ANY_OF` on
`instanceType`), one for the EBS volume types and one for their provisioned IOPS, and one for
the SageMaker endpoint instance types (`AmazonSageMaker`, `ML Instance` for hosting); a batch that
answers nothing is asked again one SKU at a time (`TERM_MATCH`), so a type the filter missed is
never taken for one AWS does not sell. Each `PriceList` item is a JSON document (a string): its
`product.attributes` say what it is, `terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD` the
price, `publicationDate` the date of the price list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aifinops_cli.pricing.live import LIVE_AWS, LiveOffer, LookupStats, PriceCache

PRICING_REGION = "us-east-1"
EC2 = "AmazonEC2"
# on-demand Linux, shared tenancy, no pre-installed software: what a plain instance bills
_EC2_FIXED = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
}
# the price list's units -> the catalog's
_UNITS = {"Hrs": "hour", "GB-Mo": "GB-month", "IOPS-Mo": "IOPS-month"}
# our catalog service -> (what to ask for, the attribute naming the SKU)
KINDS = {
    "aws.ec2": ({"productFamily": "Compute Instance", **_EC2_FIXED}, "instanceType"),
    "aws.ebs": ({"productFamily": "Storage"}, "volumeApiName"),
    "aws.ebs.iops": ({"productFamily": "System Operation", "group": "EBS IOPS"}, "volumeApiName"),
    # SageMaker real-time inference: `ML Instance` products of AmazonSageMaker used for hosting
    "aws.sagemaker.hosting": (
        {"productFamily": "ML Instance", "platoinstancetype": "Hosting"},
        "instanceName",
    ),
}
SERVICE_CODES = {"aws.sagemaker.hosting": "AmazonSageMaker"}  # the rest are AmazonEC2


def _term(field: str, value: str) -> dict[str, str]:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def filters(service: str, region: str | None, skus: list[str] | None) -> list[dict[str, str]]:
    fixed, sku_field = KINDS[service]
    out = [_term(k, v) for k, v in fixed.items()]
    if region:
        out.append(_term("regionCode", region))
    if skus:
        out.append(
            _term(sku_field, skus[0])
            if len(skus) == 1
            else {"Type": "ANY_OF", "Field": sku_field, "Value": ",".join(skus)}
        )
    return out


def ec2_filters(region: str | None, types: list[str] | None) -> list[dict[str, str]]:
    return filters("aws.ec2", region, types)


def iter_products(
    client: Any, flt: list[dict[str, str]], stats: LookupStats | None = None, service_code: str = EC2
) -> Iterator[dict[str, Any]]:
    """Every product matching `flt`, parsed; one API call per page."""
    token = ""
    while True:
        kwargs: dict[str, Any] = {
            "ServiceCode": service_code,
            "Filters": flt,
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        if stats is not None:
            stats.add(calls=1)
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken") or ""
        if not token:
            return


def parse_on_demand(item: dict[str, Any], service: str = "aws.ec2") -> LiveOffer | None:
    """The on-demand price of one product, or None when it has no usable USD price."""
    attrs = item.get("product", {}).get("attributes", {})
    sku = attrs.get(KINDS[service][1], "")
    region = attrs.get("regionCode", "")
    for term in item.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            usd = dim.get("pricePerUnit", {}).get("USD")
            unit = _UNITS.get(dim.get("unit", ""))
            if usd is None or unit is None or not sku or not region:
                continue
            try:
                price = float(usd)
            except ValueError:
                continue
            if price <= 0 and service == "aws.ec2":
                continue  # e.g. a reservation's placeholder row
            published = str(item.get("publicationDate") or term.get("effectiveDate") or "")[:10]
            return LiveOffer(service, region, sku, price, unit, published)
    return None


def lookup(
    client: Any, cache: PriceCache, stats: LookupStats, service: str, region: str, skus: list[str]
) -> list[LiveOffer]:
    """Prices of `skus` in `region`: from the cache when fresh, else from the API (batched)."""
    found, todo = cache.get(LIVE_AWS, service, region, sorted(set(skus)))
    stats.add(hits=len(found))
    if todo:
        answers = _ask(client, stats, service, region, todo)
        if not answers and len(todo) > 1:
            for sku in todo:  # an ANY_OF batch that matched nothing: ask one by one
                answers.update(_ask(client, stats, service, region, [sku]))
        fetched = {sku: answers.get(sku) for sku in todo}
        stats.add(fetched=sum(1 for o in fetched.values() if o is not None))
        cache.put(LIVE_AWS, service, region, fetched)
        found.update(fetched)
    return [o for o in found.values() if o is not None]


def _ask(client: Any, stats: LookupStats, service: str, region: str, skus: list[str]) -> dict[str, LiveOffer]:
    out: dict[str, LiveOffer] = {}
    for item in iter_products(client, filters(service, region, skus), stats, SERVICE_CODES.get(service, EC2)):
        offer = parse_on_demand(item, service)
        if offer is not None and offer.sku in skus and offer.region == region:
            out.setdefault(offer.sku, offer)
    return out
