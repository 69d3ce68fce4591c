"""Billing export formats: detect one from its columns, map it onto the normalised view.

Each format is a column mapping: for every column of the normalised view (`VIEW_COLUMNS`), an
expression over the export's own columns. Column names are compared in snake case, so legacy
CUR as CSV (`lineItem/UsageType`), as Parquet or in Athena (`line_item_usage_type`) share one
mapping, and a GCP export read as nested Parquet/JSON (`sku.description`) or flattened CSV
(`sku_description`) share another. A column that is absent becomes NULL rather than an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from aifinops_cli.scanners.billing.dialect import Dialect

# The normalised view every query reads (see queries.py); the order is the SELECT order.
VIEW_COLUMNS = (
    "usage_date",
    "period_start",
    "provider",
    "account",
    "service",
    "category",
    "usage_type",
    "operation",
    "route_text",
    "region",
    "zone",
    "from_region",
    "to_region",
    "transfer_type",
    "resource_id",
    "owner",
    "quantity",
    "unit",
    "cost",
    "effective_cost",
    "currency",
    "charge_category",
)

FORMATS = ("focus", "cur", "cur2", "gcp")


def snake(name: str) -> str:
    """`lineItem/UsageType` -> `line_item_usage_type`;
    `resourceTags/user:team` -> `resource_tags_user_team`."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name.strip())
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    return re.sub(r"_+", "_", s)


@dataclass(frozen=True)
class Column:
    path: tuple[str, ...]  # how to reach it (struct fields nested)
    kind: str = "scalar"  # scalar | struct | map | list


@dataclass
class Schema:
    """The export's columns by snake-case name (nested struct fields flattened with `_`)."""

    columns: dict[str, Column] = field(default_factory=dict)
    raw_names: list[str] = field(default_factory=list)

    def add(self, path: tuple[str, ...], kind: str) -> None:
        key = snake("_".join(path))
        self.columns.setdefault(key, Column(path, kind))

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def names(self) -> list[str]:
        return list(self.columns)


def focus_version(schema: Schema) -> str:
    """The FOCUS version an export's columns show, newest first (FOCUS_Spec CHANGELOG).

    0.5 named the columns ChargeType, AmortizedCost and Region; 1.0-preview renamed the first two
    (ChargeCategory, EffectiveCost) and added UsageQuantity; 1.0 renamed UsageQuantity to
    ConsumedQuantity, Region to RegionId and added ChargeClass; 1.1 added ServiceSubcategory,
    SkuMeter, CapacityReservationId; 1.2 InvoiceId and PricingCurrency; 1.3 ServiceProviderName
    and HostProviderName (replacing ProviderName and PublisherName) and the allocation columns.
    Microsoft's 1.0 files already carry BillingAccountType, so it proves nothing by itself.
    """
    has = schema.columns.__contains__
    if any(
        has(c)
        for c in (
            "service_provider_name",
            "host_provider_name",
            "allocated_method_id",
            "allocated_resource_id",
            "contract_applied",
        )
    ):
        return "1.3"
    if any(
        has(c)
        for c in ("invoice_id", "pricing_currency", "sub_account_type", "pricing_currency_effective_cost")
    ):
        return "1.2"
    if any(
        has(c)
        for c in (
            "service_subcategory",
            "capacity_reservation_id",
            "sku_meter",
            "sku_price_details",
            "commitment_discount_quantity",
        )
    ):
        return "1.1"
    if any(has(c) for c in ("consumed_quantity", "charge_class", "region_id", "contracted_cost")):
        return "1.0"
    if has("charge_category") or has("effective_cost") or has("usage_quantity"):
        return "1.0-preview"
    return "0.5"


# CUR 2.0 has single `product`, `resource_tags` and `cost_category` columns (maps in Parquet and
# Athena, JSON text in CSV) and account names; legacy CUR flattens them (`product/region`,
# `resourceTags/user:team` -> `product_region`, `resource_tags_user_team`).
_CUR2_ONLY = (
    "product",
    "resource_tags",
    "cost_category",
    "bill_payer_account_name",
    "line_item_usage_account_name",
)


def detect(schema: Schema) -> tuple[str, str] | None:
    """(format, label) from the columns, or None when no known format fits."""
    if schema.has("billed_cost", "charge_period_start"):
        return "focus", f"FOCUS {focus_version(schema)}"
    if schema.has("line_item_unblended_cost") or schema.has("line_item_usage_type"):
        if any(name in schema.columns for name in _CUR2_ONLY):
            return "cur2", "AWS CUR 2.0"
        return "cur", "AWS CUR (legacy)"
    if schema.has("cost", "usage_start_time") and (schema.has("sku_description") or schema.has("sku")):
        return "gcp", "Google Cloud billing export"
    return None


_RE_META = set(".^$*+?()[]{}|\\")


def _re_escape(text: str) -> str:
    """Escape for RE2 and Java regex alike (Python's re.escape over-escapes spaces)."""
    return "".join("\\" + ch if ch in _RE_META else ch for ch in text)


@dataclass
class Mapping:
    """The SELECT that turns one export into the normalised view, in one SQL dialect."""

    fmt: str
    label: str
    dialect: Dialect
    schema: Schema
    owner_keys: list[str]

    def col(self, *names: str) -> str | None:
        for name in names:
            column = self.schema.columns.get(name)
            if column is not None:
                return self.dialect.path(column.path)
        return None

    def text(self, *names: str) -> str:
        """First of these columns that exists, as text; empty text and literal NULL become NULL."""
        exprs = [self.dialect.text(e) for e in (self.col(n) for n in names) if e]
        if not exprs:
            return self.dialect.null_text
        if self.dialect.name == "duckdb":  # CSV is read with nullstr NULL/'': no per-row TRIM
            parts = [f"NULLIF({e}, '')" for e in exprs]
        else:
            parts = [f"NULLIF(NULLIF(TRIM({e}), ''), 'NULL')" for e in exprs]
        return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"

    def number(self, *names: str) -> str:
        exprs = [e for e in (self.col(n) for n in names) if e]
        if not exprs:
            return self.dialect.null_double
        parts = [self.dialect.finite_double(e) for e in exprs]
        return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"

    def date(self, *names: str) -> str:
        e = next((x for x in (self.col(n) for n in names) if x), None)
        return self.dialect.try_date(e) if e else "CAST(NULL AS DATE)"

    # --- owner from tags ------------------------------------------------------------------------
    def _owner_from_text(self, tags_text: str, style: str) -> str:
        """Owner from a JSON text of tags: `{"team": "x"}` (object) or `[{"key":..,"value":..}]` (kv).

        Keys compare case-insensitively and ignoring surrounding spaces (real exports carry both
        `org` and ` org`); CUR 2.0 map keys carry a `user_` prefix.
        """
        exprs = []
        for key in self.owner_keys:
            k = _re_escape(key.strip())
            if style == "kv":
                pattern = r'(?i)"key"\s*:\s*"\s*' + k + r'\s*"\s*,\s*"value"\s*:\s*"([^"]+)"'
            else:
                pattern = r'(?i)"\s*(?:user[_:])?' + k + r'\s*"\s*:\s*"([^"]+)"'
            exprs.append(self.dialect.regex_extract(tags_text, pattern, 1))
        if not exprs:
            return self.dialect.null_text
        return f"COALESCE({', '.join(exprs)})" if len(exprs) > 1 else exprs[0]

    def _owner_from_columns(self, prefixes: Iterable[str]) -> str:
        wanted = [snake(k) for k in self.owner_keys]
        found = []
        for key in wanted:
            for prefix in prefixes:
                if prefix + key in self.schema.columns:
                    found.append(prefix + key)
        return self.text(*found) if found else self.dialect.null_text

    def map_text(self, column: str, *keys: str) -> str:
        """First non-empty of `keys` in a CUR 2.0 map column: a real map (Parquet, Athena) or the
        JSON text CUR 2.0 writes in CSV. The text is read with a regular expression, not a JSON
        parser, so one malformed cell is one row without the value, not a failed file."""
        col = self.schema.columns.get(column)
        if col is None:
            return self.dialect.null_text
        expr = self.dialect.path(col.path)
        if col.kind == "map":
            values = [f"NULLIF({self.dialect.map_value(expr, k)}, '')" for k in keys]
        else:
            text = self.dialect.text(expr)
            values = [
                self.dialect.regex_extract(text, r'"' + _re_escape(k) + r'"\s*:\s*"([^"]+)"', 1) for k in keys
            ]
        return values[0] if len(values) == 1 else f"COALESCE({', '.join(values)})"

    def owner(self) -> str:
        c = self.schema.columns
        if self.fmt == "cur" or (self.fmt == "cur2" and "resource_tags" not in c):
            return self._owner_from_columns(("resource_tags_user_", "resource_tags_"))
        if self.fmt == "cur2":
            tags = c["resource_tags"]
            expr = self.dialect.path(tags.path)
            if tags.kind == "map":
                keys = []
                for key in self.owner_keys:
                    k = key.strip()
                    for cand in (f"user_{snake(k)}", f"user_{k}", f"user_{k.lower()}", k):
                        if cand not in keys:
                            keys.append(cand)
                values = [f"NULLIF({self.dialect.map_value(expr, k)}, '')" for k in keys]
                return f"COALESCE({', '.join(values)})"
            return self._owner_from_text(self.dialect.text(expr), "object")
        if self.fmt == "focus":
            tags = c.get("tags")
            if tags is None:
                return self._owner_from_columns(("tags_",))
            expr = self.dialect.path(tags.path)
            text = self.dialect.to_json_text(expr) if tags.kind in ("map", "struct") else expr
            return self._owner_from_text(text, "object")
        # gcp: resource labels, then project labels
        parts = []
        for name in ("labels", "project_labels", "tags"):
            column = c.get(name)
            if column is None:
                continue
            expr = self.dialect.path(column.path)
            text = self.dialect.to_json_text(expr) if column.kind in ("list", "struct", "map") else expr
            parts.append(self._owner_from_text(text, "kv"))
        if not parts:
            return self.dialect.null_text
        return f"COALESCE({', '.join(parts)})" if len(parts) > 1 else parts[0]

    # --- the view ---------------------------------------------------------------------------------
    def expressions(self) -> dict[str, str]:
        d = self.dialect
        lit = d.lit
        if self.fmt == "focus":
            # 1.3 names the seller ServiceProviderName; 0.5 had no ChargeCategory (ChargeType),
            # EffectiveCost (AmortizedCost), ConsumedQuantity (UsageQuantity) nor RegionId (Region).
            # Azure's exports carry the meter (`x_SkuMeterName`, `x_SkuMeterSubcategory`), AWS's
            # the usage type (`x_UsageType`); both classify better than the description alone.
            provider = self.text("service_provider_name", "provider_name", "provider")
            return {
                "usage_date": self.date("charge_period_start"),
                "period_start": self.date("billing_period_start"),
                "provider": provider,
                "account": self.text("sub_account_id", "billing_account_id"),
                "service": self.text("service_name"),
                "category": self.text("service_category"),
                "usage_type": self.text("x_usage_type", "x_usagetype", "x_sku_meter_name", "sku_meter"),
                "operation": self.text("x_operation", "x_sku_meter_subcategory"),
                "route_text": self.text("charge_description", "x_sku_description"),
                "region": self.text("region_id", "region_name", "region"),
                "zone": self.text("availability_zone"),
                "from_region": d.null_text,
                "to_region": d.null_text,
                "transfer_type": d.null_text,
                "resource_id": self.text("resource_id"),
                "owner": self.owner(),
                "quantity": self.number("consumed_quantity", "usage_quantity", "pricing_quantity"),
                "unit": self.text("consumed_unit", "usage_unit", "pricing_unit"),
                "cost": self.number("billed_cost"),
                "effective_cost": self.number("effective_cost", "amortized_cost"),
                "currency": self.text("billing_currency"),
                "charge_category": self.text("charge_category", "charge_type"),
            }
        if self.fmt in ("cur", "cur2"):
            transfer = self.text("product_transfer_type")
            if self.fmt == "cur2" and "product" in self.schema.columns:
                in_map = self.map_text("product", "transfer_type", "transferType")
                transfer = f"COALESCE({transfer}, {in_map})"
            return {
                "usage_date": self.date("line_item_usage_start_date"),
                "period_start": self.date("bill_billing_period_start_date"),
                "provider": lit("AWS"),
                "account": self.text("line_item_usage_account_id"),
                "service": self.text("line_item_product_code", "product_servicecode"),
                # the usage type alone decides the class in CUR; fewer key columns, faster scans
                "category": d.null_text,
                "usage_type": self.text("line_item_usage_type"),
                "operation": d.null_text,
                # CUR carries the route in proper columns; descriptions are not parsed (speed).
                "route_text": d.null_text,
                "region": self.text("product_region_code", "product_region"),
                "zone": self.text("line_item_availability_zone"),
                "from_region": self.text("product_from_region_code", "product_from_location"),
                "to_region": self.text("product_to_region_code", "product_to_location"),
                "transfer_type": transfer,
                "resource_id": self.text("line_item_resource_id"),
                "owner": self.owner(),
                "quantity": self.number("line_item_usage_amount"),
                "unit": self.text("pricing_unit"),
                "cost": self.number("line_item_unblended_cost"),
                "effective_cost": d.null_double,
                "currency": self.text("line_item_currency_code"),
                "charge_category": self.text("line_item_line_item_type"),
            }
        # gcp
        credits = self.schema.columns.get("credits")
        cost = self.number("cost")
        if credits is not None:
            expr = d.path(credits.path)
            if credits.kind == "list":
                credit_sum = d.list_amount_sum(expr)
            elif d.name == "duckdb":  # credits as JSON text (CSV)
                credit_sum = (
                    f"list_sum(TRY_CAST(json_extract(NULLIF({d.text(expr)}, ''), '$[*].amount') AS DOUBLE[]))"
                )
            else:
                credit_sum = d.null_double
            cost = d.finite(f"({cost} + COALESCE({credit_sum}, 0))")
        elif "credits_amount" in self.schema.columns:
            cost = f"({cost} + COALESCE({self.number('credits_amount')}, 0))"
        return {
            "usage_date": self.date("usage_start_time"),
            "period_start": "CAST(NULL AS DATE)",
            "provider": lit("Google Cloud"),
            "account": self.text("project_id", "billing_account_id"),
            "service": self.text("service_description"),
            "category": d.null_text,
            "usage_type": self.text("sku_description"),
            "operation": d.null_text,
            "route_text": self.text("sku_description"),
            "region": self.text("location_region", "location_location", "location"),
            "zone": self.text("location_zone"),
            "from_region": d.null_text,
            "to_region": d.null_text,
            "transfer_type": d.null_text,
            "resource_id": self.text("resource_global_name", "resource_name"),
            "owner": self.owner(),
            "quantity": self.number("usage_amount_in_pricing_units", "usage_amount"),
            "unit": self.text("usage_pricing_unit", "usage_unit"),
            "cost": cost,
            "effective_cost": d.null_double,
            "currency": self.text("currency"),
            "charge_category": self.text("cost_type"),
        }

    def constant_nulls(self) -> frozenset[str]:
        """View columns this export does not have (always NULL): queries need not group by them."""
        nulls = {self.dialect.null_text, self.dialect.null_double, "CAST(NULL AS DATE)"}
        return frozenset(name for name, expr in self.expressions().items() if expr in nulls)

    def view_sql(self, source: str, raw_text: frozenset[str] = frozenset()) -> str:
        """The normalised view. Columns named in `raw_text` may come back with '' where the view
        has NULL (DuckDB only: the outer NULLIF is left off), for a query that groups by them
        first and applies NULLIF to the few groups: grouping the bare column is cheaper."""
        exprs = self.expressions()
        exprs["currency"] = f"COALESCE({exprs['currency']}, 'unknown')"
        if self.dialect.name == "duckdb":
            for name in raw_text:
                if name == "currency":
                    inner = _outer_nullif(exprs[name][len("COALESCE(") : -len(", 'unknown')")])
                else:
                    inner = _outer_nullif(exprs[name])
                if inner is not None:
                    exprs[name] = inner
        select = ",\n    ".join(f"{exprs[name]} AS {name}" for name in VIEW_COLUMNS)
        return f"SELECT\n    {select}\nFROM {source}"


def _outer_nullif(expr: str) -> str | None:
    """`x` when `expr` is exactly `NULLIF(x, '')` (one call around the whole of it), else None."""
    head, tail = "NULLIF(", ", '')"
    if not (expr.startswith(head) and expr.endswith(tail)):
        return None
    inner = expr[len(head) : -len(tail)]
    depth, quoted = 0, False
    for ch in inner:
        if ch == "'":
            quoted = not quoted  # '' inside a literal toggles twice
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return None
        elif not quoted and ch == "," and depth == 0:
            return None
    return inner if depth == 0 and not quoted else None
