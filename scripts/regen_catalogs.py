"""Regenerate the bundled price catalogs (`src/aifinops_cli/pricing/data/{gcp,aws}.yaml`).

The bundled catalogs are the offline fallback when a scan cannot read the clouds' own price
lists. They are generated, never hand-typed, from one of:

GCP (`--gcp-cyclenerd PATH [--gcp-regions-csv PATH]`):
    Cyclenerd/google-cloud-pricing-cost-calculator `pricing.yml` (Apache-2.0), itself generated
    from the Cloud Billing Catalog API (`services.skus.list`): per machine type and region the
    on-demand and Spot hourly price (GPUs and bundled Local SSD included), and persistent-disk /
    hyperdisk capacity per GB-month. `tools/machinetyperegion.csv` of the same repository (from
    the Compute Engine API) says in which regions each machine type exists; it is written to the
    catalog's `availability` so a test can check that every GPU machine type is priced wherever
    it exists.
GCP (`--gcp-api`): the Cloud Billing Catalog API itself, through aifinops' live reader.
AWS (`--aws-skypilot-csv PATH`): skypilot-org/skypilot-catalog `catalogs/v8/aws/vms.csv`
    (Apache-2.0), a copy of the AWS Price List's on-demand Linux prices per region.
AWS (`--aws-api`): the AWS Price List API (`pricing:GetProducts`, us-east-1 endpoint).

Each source's licence and date go into the catalog header. Usage:

    python scripts/regen_catalogs.py --gcp-cyclenerd pricing.yml --gcp-regions-csv \
        machinetyperegion.csv --gcp-date 2026-07-30
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parents[1] / "src" / "aifinops_cli" / "pricing" / "data"
# machine families a scan prices: accelerator-optimised ones and those GPUs attach to (N1), plus
# the general-purpose families GKE system pools and CPU sides of an estate use
GCP_FAMILIES = ("a2", "a3", "a4", "g2", "g4", "n1", "n2", "e2")
GCP_ACCELERATOR_FAMILIES = ("a2", "a3", "a4", "g2", "g4")
# Cyclenerd's storage names -> Compute Engine disk types
GCP_DISKS = {
    "hdd": "pd-standard",
    "balanced": "pd-balanced",
    "ssd": "pd-ssd",
    "extreme": "pd-extreme",
    "hyperdisk-extreme": "hyperdisk-extreme",
}
AWS_GPU_PREFIXES = (
    "p2.",
    "p3",
    "p4",
    "p5",
    "p6",
    "g3",
    "g4",
    "g5",
    "g6",
    "g7",
    "gr6",
    "inf1.",
    "inf2.",
    "trn1",
    "trn2",
    "dl1.",
    "dl2q.",
)


def _load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def gcp_from_cyclenerd(doc: dict[str, Any], regions_csv: Path | None, date: str) -> dict[str, Any]:
    """The gcp catalog from Cyclenerd's pricing.yml (prices) and machinetyperegion.csv."""
    generated = str(doc.get("about", {}).get("generated", ""))
    compute: dict[str, dict[str, float]] = {}
    spot: dict[str, dict[str, float]] = {}
    shapes: dict[str, dict[str, Any]] = {}
    for machine, spec in sorted(doc["compute"]["instance"].items()):
        if machine.split("-", 1)[0] not in GCP_FAMILIES:
            continue
        shape = {k: v for k, v in spec.items() if k != "cost"}
        shapes[machine] = shape
        for region, cost in sorted(spec.get("cost", {}).items()):
            if cost.get("hour") is not None:
                compute.setdefault(region, {})[machine] = round(float(cost["hour"]), 9)
            if cost.get("hour_spot") is not None:
                spot.setdefault(region, {})[machine] = round(float(cost["hour_spot"]), 9)
    disks: dict[str, dict[str, float]] = {}
    for name, disk_type in GCP_DISKS.items():
        for region, cost in sorted(doc["compute"]["storage"].get(name, {}).get("cost", {}).items()):
            if cost.get("month") is not None:
                disks.setdefault(region, {})[disk_type] = round(float(cost["month"]), 9)
    availability: dict[str, list[str]] = {}
    if regions_csv is not None:
        with regions_csv.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                if row["NAME"].split("-", 1)[0] in GCP_ACCELERATOR_FAMILIES:
                    availability.setdefault(row["NAME"], []).append(row["ZONE"])
        availability = {k: sorted(set(v)) for k, v in sorted(availability.items())}
    gaps = {
        m: sorted(r for r in regions if machine_missing(compute, m, r)) for m, regions in availability.items()
    }
    gaps = {m: r for m, r in gaps.items() if r}
    return {
        "catalog": "gcp-billing-catalog-bundled",
        "source": (
            "Cloud Billing Catalog API (services.skus.list, Compute Engine), as copied by "
            "Cyclenerd/google-cloud-pricing-cost-calculator pricing.yml "
            f"(Apache-2.0; generated {generated})"
        ),
        "price_date": date,
        "currency": "USD",
        "sources": [
            {
                "name": "Cyclenerd/google-cloud-pricing-cost-calculator pricing.yml",
                "url": "https://github.com/Cyclenerd/google-cloud-pricing-cost-calculator",
                "licence": "Apache-2.0",
                "generated": generated,
                "derived_from": "Cloud Billing Catalog API",
            },
            {
                "name": "Cyclenerd/google-cloud-pricing-cost-calculator tools/machinetyperegion.csv",
                "licence": "Apache-2.0",
                "derived_from": "Compute Engine machineTypes API",
                "used_for": "availability",
            },
        ],
        "services": {
            "gcp.compute": {"unit": "hour", "prices": compute},
            "gcp.compute.spot": {"unit": "hour", "prices": spot},
            "gcp.pd": {"unit": "GB-month", "prices": disks},
        },
        "machine_shapes": shapes,
        "availability": availability,
        "gaps": gaps,
    }


def gcp_from_api(previous: dict[str, Any], date: str) -> dict[str, Any]:
    """The gcp catalog from the Cloud Billing Catalog API itself (Application Default
    Credentials): every machine type of the current catalog's shapes, in every region the SKU
    list prices its parts, on demand and Spot; disks likewise. Availability is kept as it was."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    from aifinops_cli.pricing import gcp_live
    from aifinops_cli.pricing.live import LookupStats

    credentials, _ = google.auth.default(scopes=gcp_live.SCOPES)
    stats = LookupStats()
    skus = gcp_live.list_skus(AuthorizedSession(credentials), gcp_live.DEFAULT_ENDPOINT, stats)
    index = gcp_live.SkuIndex(skus)
    regions = sorted({r for sku in skus for r in sku.get("serviceRegions", [])})
    shapes = previous.get("machine_shapes", {})
    services: dict[str, dict[str, dict[str, float]]] = {
        "gcp.compute": {},
        "gcp.compute.spot": {},
        "gcp.pd": {},
        "gcp.gpu": {},
        "gcp.gpu.spot": {},
    }
    newest = ""
    for region in regions:
        offers = [
            gcp_live.machine_offer(index, region, m, shape, spot)
            for m, shape in shapes.items()
            for spot in (False, True)
        ]
        offers += [gcp_live.disk_offer(index, region, d) for d in gcp_live.DISK_NAMES]
        offers += [
            gcp_live.offer_for(index, svc, region, accel, shapes)
            for accel in gcp_live.GPU_NAMES
            if accel.startswith("nvidia-")
            for svc in ("gcp.gpu", "gcp.gpu.spot")
        ]
        for o in offers:
            if o is not None:
                services[o.service].setdefault(region, {})[o.sku] = o.usd
                newest = max(newest, o.published)
    units = {"gcp.pd": "GB-month", "gcp.gpu": "GPU-hour", "gcp.gpu.spot": "GPU-hour"}
    availability = previous.get("availability", {})
    compute = services["gcp.compute"]
    gaps = {m: sorted(r for r in rs if machine_missing(compute, m, r)) for m, rs in availability.items()}
    print(f"gcp api: {stats.api_calls} skus.list calls, {len(skus)} SKUs")
    return {
        "catalog": "gcp-billing-catalog-bundled",
        "source": f"Cloud Billing Catalog API (services.skus.list, Compute Engine), read {date}",
        "price_date": newest or date,
        "currency": "USD",
        "sources": [
            {"name": "Cloud Billing Catalog API", "licence": "Google Cloud list prices", "read": date}
        ],
        "services": {k: {"unit": units.get(k, "hour"), "prices": v} for k, v in services.items()},
        "machine_shapes": shapes,
        "availability": availability,
        "gaps": {m: r for m, r in gaps.items() if r},
    }


def machine_missing(compute: dict[str, dict[str, float]], machine: str, region: str) -> bool:
    return machine not in compute.get(region, {})


def aws_from_skypilot(path: Path, date: str) -> dict[str, dict[str, float]]:
    """EC2 on-demand prices per region from SkyPilot's AWS vms.csv (one price per region)."""
    prices: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("Price"):
                prices.setdefault(row["Region"], {})[row["InstanceType"]] = float(row["Price"])
    return prices


def aws_from_api(regions: list[str] | None = None) -> tuple[dict[str, dict[str, float]], str]:
    """EC2 GPU/accelerator on-demand Linux prices for every region, from GetProducts."""
    import boto3

    from aifinops_cli.pricing import aws_live

    client = boto3.client("pricing", region_name="us-east-1")
    prices: dict[str, dict[str, float]] = {}
    newest = ""
    for item in aws_live.iter_products(client, aws_live.ec2_filters(None, None)):
        offer = aws_live.parse_on_demand(item)
        if offer is None or not offer.sku.startswith(AWS_GPU_PREFIXES):
            continue
        if regions and offer.region not in regions:
            continue
        prices.setdefault(offer.region, {})[offer.sku] = offer.usd
        newest = max(newest, offer.published)
    return prices, newest


def merge_aws(prices: dict[str, dict[str, float]], source: str, date: str) -> None:
    """Replace the aws.ec2 rows of aws.yaml with `prices`, keep the rest of the file."""
    path = DATA / "aws.yaml"
    doc = _load_yaml(path)
    doc["services"]["aws.ec2"]["prices"] = {r: dict(sorted(v.items())) for r, v in sorted(prices.items())}
    doc["source"] = f"{doc.get('source', '')}; aws.ec2 regenerated from {source}"
    doc["price_date"] = date
    _write(path, doc, "AWS on-demand list prices; aws.ec2 generated by scripts/regen_catalogs.py")


def _write(path: Path, doc: dict[str, Any], title: str) -> None:
    header = (
        f"# {title}\n# GENERATED by scripts/regen_catalogs.py: do not edit by hand; "
        "override prices in aifinops.yaml (pricing.overrides).\n"
    )
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)
    path.write_text(header + text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--gcp-cyclenerd", type=Path, help="Cyclenerd pricing.yml")
    ap.add_argument("--gcp-regions-csv", type=Path, help="Cyclenerd tools/machinetyperegion.csv")
    ap.add_argument("--gcp-date", default="", help="date of the GCP source copy (YYYY-MM-DD)")
    ap.add_argument("--gcp-api", action="store_true", help="read the Cloud Billing Catalog API")
    ap.add_argument("--aws-skypilot-csv", type=Path, help="SkyPilot catalogs/v8/aws/vms.csv")
    ap.add_argument("--aws-api", action="store_true", help="read the AWS Price List API")
    ap.add_argument("--aws-date", default="", help="date of the AWS source copy (YYYY-MM-DD)")
    args = ap.parse_args(argv)
    done = False
    if args.gcp_cyclenerd or args.gcp_api:
        if args.gcp_api:
            import datetime

            doc = gcp_from_api(
                _load_yaml(DATA / "gcp.yaml"), args.gcp_date or datetime.date.today().isoformat()
            )
        else:
            doc = gcp_from_cyclenerd(
                _load_yaml(args.gcp_cyclenerd), args.gcp_regions_csv, args.gcp_date or "unknown"
            )
        _write(DATA / "gcp.yaml", doc, "Google Cloud list prices (on-demand and Spot), every region")
        services = doc["services"]
        print(
            f"gcp: {len(services['gcp.compute']['prices'])} regions, "
            f"{sum(len(v) for v in services['gcp.compute']['prices'].values())} machine-type "
            f"prices, {sum(len(v) for v in services['gcp.compute.spot']['prices'].values())} "
            f"Spot, {sum(len(v) for v in services['gcp.pd']['prices'].values())} disk; "
            f"{sum(len(v) for v in doc['gaps'].values())} (type, region) gaps"
        )
        done = True
    if args.aws_skypilot_csv:
        prices = aws_from_skypilot(args.aws_skypilot_csv, args.aws_date)
        merge_aws(
            prices,
            f"skypilot-org/skypilot-catalog vms.csv (Apache-2.0) of {args.aws_date}",
            args.aws_date or "unknown",
        )
        done = True
    elif args.aws_api:
        prices, published = aws_from_api()
        merge_aws(prices, f"AWS Price List API, publication {published}", published[:10])
        done = True
    if not done:
        ap.error("name at least one source")
    return 0


if __name__ == "__main__":
    sys.exit(main())
