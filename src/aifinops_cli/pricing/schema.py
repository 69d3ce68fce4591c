"""JSON Schemas of a price catalog file and of the config's `pricing:` section.

A catalog (bundled under `pricing/data/`, or a user's in `pricing.catalogs`) and the config's
overrides are checked before any scan, so a typo is exit 2 at its file:line instead of a
KeyError later, a price silently read as 0, or a string price that breaks one region's totals.
JSON Schema cannot say "a finite number": `check_finite` does that part.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import Any

import jsonschema

CURRENCY = "USD"  # every price is USD (CostLine.unit_price_usd)

_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_DATE: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}$",
    "format": "date",
    "x-error": "expected a date as YYYY-MM-DD",
}
_PRICE: dict[str, Any] = {
    "type": "number",
    "minimum": 0,
    "x-error": "a price must be a non-negative number of USD",
}
_SERVICE_NAME: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[a-z0-9][a-z0-9._-]*$",
    "x-error": "a service is lowercase and dotted, e.g. aws.ec2",
}
_PCT: dict[str, Any] = {
    "type": "number",
    "minimum": 0,
    "maximum": 100,
    "x-error": "a discount is a percentage from 0 to 100",
}

SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["unit", "prices"],
    "additionalProperties": False,
    "properties": {
        "unit": _TEXT,  # hour, GB-month, GPU-hour, ...
        "prices": {  # region ("*": everywhere) -> SKU -> unit price
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": _PRICE,
                "x-error": "expected a mapping of SKU: price",
            },
            "x-error": "expected a mapping of region: {SKU: price}",
        },
    },
    "x-error": "expected a mapping with unit and prices",
}

CATALOG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aifinops price catalog",
    "type": "object",
    "required": ["catalog", "price_date", "services"],
    "additionalProperties": False,
    "properties": {
        "catalog": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
            "x-error": "a catalog id is one word, e.g. our-negotiated-prices",
        },
        "source": {"type": "string"},
        "price_date": _DATE,  # the date its prices are valid for: every cost line carries it
        "currency": {"const": CURRENCY, "x-error": f"prices are in {CURRENCY}"},
        "sources": {"type": "array", "items": {"type": "object"}},
        "services": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _SERVICE_NAME,
            "additionalProperties": SERVICE_SCHEMA,
            "x-error": "expected a mapping of service: {unit, prices}",
        },
        # generated gcp.yaml: the parts a machine type is priced from, where it is sold, and
        # where the source had no price
        "machine_shapes": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0},
            },
        },
        "availability": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "gaps": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        # service -> SKU prefixes (machine families) whose per-node row already prices the
        # GPUs that come with the machine type: their accelerators are not priced again
        "accelerators_included": {
            "type": "object",
            "propertyNames": _SERVICE_NAME,
            "additionalProperties": {"type": "array", "items": _TEXT},
        },
    },
}

OVERRIDE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["service", "sku", "unit_price_usd"],
    "additionalProperties": False,
    "properties": {
        "service": _SERVICE_NAME,
        "sku": {"type": ["string", "number"]},
        "region": _TEXT,
        "unit": _TEXT,
        "unit_price_usd": _PRICE,
        "price_date": _DATE,
    },
    "x-error": "expected a mapping with service, sku, unit_price_usd (region, unit, price_date)",
}

PRICING_SECTION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aifinops config pricing section",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "catalogs": {"type": "array", "items": _TEXT, "x-error": "expected a list of files"},
        "overrides": {"type": "array", "items": OVERRIDE_SCHEMA, "x-error": "expected a list of overrides"},
        "discount_pct": {
            "anyOf": [
                _PCT,
                {
                    "type": "object",
                    "propertyNames": {"anyOf": [_SERVICE_NAME, {"const": "*"}]},
                    "additionalProperties": _PCT,
                },
            ]
        },
        "live": {"type": "boolean", "x-error": "expected true or false"},
        "cache_dir": _TEXT,
    },
}

_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
CATALOG_VALIDATOR = jsonschema.Draft202012Validator(CATALOG_SCHEMA, format_checker=_FORMATS)
PRICING_VALIDATOR = jsonschema.Draft202012Validator(PRICING_SECTION_SCHEMA, format_checker=_FORMATS)


def dates_as_text(data: Any) -> Any:
    """YAML reads an unquoted 2026-11-01 as a date: the schema (and the reports) want the text."""
    if isinstance(data, dict):
        return {k: dates_as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [dates_as_text(v) for v in data]
    return data.isoformat() if isinstance(data, date) else data


def non_finite(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths of numbers that are no finite number (.inf, .nan): the schema's `minimum` lets
    them through."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from non_finite(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from non_finite(v, (*path, i))
    elif isinstance(data, float) and not math.isfinite(data):
        yield path
