# ruff: noqa: E501  (SQL templates read better unbroken)
"""The billing queries, written once over the normalised view.

One statement does all the work in a single pass over the export: it classifies every line
(data transfer class, route, AI component) and aggregates with GROUPING SETS into the handful
of small tables the report needs. It is plain SQL that DuckDB, Athena (Trino) and BigQuery all
accept; only the functions in `Dialect` are spelled per engine. Nothing here is per row in
Python: the result is a few hundred or thousand aggregated rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aifinops_cli.core.yamlsrc import load_one, read_text
from aifinops_cli.scanners.billing.dialect import Dialect

# Transfer classes. The egress classes have rules (rules/billing.yaml); the others are billed
# transfer or processing that no rule judges but the report always shows, with their dollars:
# no class that can hold a billed dollar is left out. `inbound` is usually free, not always
# (inter-region `-AWS-In-Bytes` of some services, VNet peering ingress), so it is reported too.
EGRESS_CLASSES = ("inter_region", "inter_zone", "internet", "nat")
OTHER_TRANSFER_CLASSES = (
    "transit_gateway",
    "vpc_endpoint",
    "replication",
    "cdn_origin",
    "google_services",
    "inbound",
)
TRANSFER_CLASSES = (*EGRESS_CLASSES, *OTHER_TRANSFER_CLASSES)
AI_COMPONENTS = ("compute", "model_api", "storage", "retrieval")  # + data_transfer (derived)

# AWS usage types that name a route: <from>-<to>-AWS-Out-Bytes (inter-region), and S3
# Replication Time Control's <from>-<to>-S3RTC-Out-Bytes.
_INTER_REGION_UT = r"^[A-Z]{2,4}[0-9]?-([A-Z]{2,4}[0-9]?)-(?:AWS|S3RTC)-Out-Bytes"
# Usage types quoted inside FOCUS descriptions ("... for EUN1-AWS-Out-Bytes in EU (Stockholm)").
_UT_IN_TEXT = (
    r"([A-Z0-9]{2,5}(?:-[A-Z0-9]{2,5})?-(?:AWS|DataTransfer)-(?:In|Out)-Bytes|"
    r"DataTransfer-(?:xAZ-In|xAZ-Out|Regional|Out|In)-Bytes|NatGateway-Bytes|"
    r"TransitGateway-Bytes|VpcEndpoint-Bytes)"
)


@dataclass(frozen=True)
class AiPatterns:
    """Regular expressions per AI component (see pricing/data/ai_services.yaml)."""

    components: dict[str, dict[str, list[str]]]

    @staticmethod
    def load(path: Path | None = None) -> AiPatterns:
        if path is not None:
            text = read_text(path, "AI services file")
        else:
            text = (resources.files("aifinops_cli.pricing") / "data" / "ai_services.yaml").read_text(
                encoding="utf-8"
            )
        doc = load_one(text, str(path or "bundled:ai_services.yaml"), lines=False).data or {}
        spec = doc.get("ai_services", doc)
        comps: dict[str, dict[str, list[str]]] = {}
        for name in AI_COMPONENTS:
            entry = spec.get(name) or {}
            comps[name] = {k: [str(p).lower() for p in v] for k, v in entry.items() if isinstance(v, list)}
        return AiPatterns(comps)


def _alt(patterns: list[str]) -> str:
    return "(" + "|".join(f"(?:{p})" for p in patterns) + ")"


# The columns that decide a line's transfer class, route and AI component. Classification runs
# on their distinct combinations after aggregation, never once per billing row.
KEY = (
    "service",
    "category",
    "usage_type",
    "operation",
    "route_text",
    "transfer_type",
    "unit",
    "region",
    "from_region",
    "to_region",
)


def _classify(d: Dialect, ai: AiPatterns) -> tuple[str, str, str, str, str]:
    """SQL expressions over the KEY columns (+ `lr` resource text): class, component, src, dst, gb factor."""

    def like(col: str, *needles: str) -> str:
        return "(" + " OR ".join(f"{col} LIKE {d.lit('%' + n + '%')}" for n in needles) + ")"

    # Three tiers, in order: (1) the usage type, where it names a transfer (AWS CUR, FOCUS
    # x_UsageType); (2) CUR's product/transferType only where the usage type is silent; (3) the
    # descriptions (FOCUS ChargeDescription, GCP SKU, Azure meter, OCI charge). A usage type
    # that names a transfer is never overridden: `-AWS-Out-Bytes` is inter-region whatever the
    # transfer type says, and `DataTransfer-xAZ-In-Bytes` is cross-zone (billed both ways),
    # not inbound.
    ut_tier = f"""
      WHEN {like("lut", "natgateway-bytes")} THEN 'nat'
      WHEN {like("lut", "datatransfer-xaz-in-bytes", "datatransfer-xaz-out-bytes", "datatransfer-regional-bytes")} THEN 'inter_zone'
      WHEN {like("lut", "transitgateway-bytes")} THEN 'transit_gateway'
      WHEN {like("lut", "vpcendpoint-bytes", "vpcendpoint-gwlbe-bytes", "privatelink-bytes")} THEN 'vpc_endpoint'
      WHEN {like("lut", "s3rtc-out-bytes")} THEN 'replication'
      WHEN {like("lut", "cloudfront-out-bytes", "-out-obytes")} THEN 'cdn_origin'
      WHEN {like("lut", "-aws-out-bytes")} THEN 'inter_region'
      WHEN {like("lut", "-out-bytes")} THEN 'internet'
      WHEN {like("lut", "-in-bytes", "-in-abytes")} THEN 'inbound'"""
    tt_tier = """
      WHEN ltt LIKE 'interregion outbound%' THEN 'inter_region'
      WHEN ltt LIKE 'intraregion%' THEN 'inter_zone'
      WHEN ltt LIKE 'cloudfront%' THEN 'cdn_origin'
      WHEN ltt LIKE '%inbound%' THEN 'inbound'
      WHEN ltt LIKE '%outbound%' THEN 'internet'"""
    text = "lx"
    processed = like(text, "data processed", "data processing")
    text_tier = f"""
      WHEN {like(text, "data processed by nat gateway", "nat gateway data processing", "nat data processing")} THEN 'nat'
      WHEN {like(text, "transit gateway")} AND {processed} THEN 'transit_gateway'
      WHEN {like(text, "privatelink", "private link", "vpc endpoint")} AND {processed} THEN 'vpc_endpoint'
      WHEN {like(text, "to cloudfront", "cache fill", "origin transfer", "to origin")} THEN 'cdn_origin'
      WHEN {like(text, "between ec2 azs", "inter zone", "inter-zone", "interzone", "inter availability zone", "inter-availability zone", "cross-zone", "cross zone")} THEN 'inter_zone'
      WHEN {like(text, "google egress", "google data transfer", "to google services", "google services data transfer")} THEN 'google_services'
      WHEN {like(text, " data transfer from ", "ingress", "inbound data transfer")} OR {text} LIKE '%data transfer in' OR {like(text, "data transfer in ", "data transfer in-")} THEN 'inbound'
      WHEN {like(text, "internet")} AND {like(text, "egress", "transfer out", "data transfer")} THEN 'internet'
      WHEN {like(text, " data transfer to ", "inter region", "inter-region", "interregion", "intra continent", "inter continent", "replication")} AND {like(text, "transfer", "egress", "bandwidth", "traffic")} THEN 'inter_region'
      WHEN {like(text, "data transfer out", "outbound data transfer", "egress", "download worldwide")} THEN 'internet'"""
    transfer_class = f"""CASE{ut_tier}{tt_tier}{text_tier}
    END"""

    def comp(name: str, with_resource: bool) -> str:
        spec = ai.components.get(name, {})
        tests = []
        if spec.get("service"):
            tests.append(d.regex_like("ls", _alt(spec["service"])))
        if spec.get("usage"):
            tests.append(d.regex_like("lut", _alt(spec["usage"])))
            tests.append(d.regex_like("ld", _alt(spec["usage"])))
        if with_resource and spec.get("resource") and spec.get("storage_service"):
            tests.append(
                f"({d.regex_like('ls', _alt(spec['storage_service']))} "
                f"AND {d.regex_like('lr', _alt(spec['resource']))})"
            )
        return " OR ".join(tests) if tests else "FALSE"

    component = (
        "CASE\n"
        + "\n".join(
            f"      WHEN {comp(n, False)} THEN {d.lit(n)}"
            for n in ("model_api", "retrieval", "storage", "compute")
        )
        + "\n    END"
    )
    src = (
        f"COALESCE(from_region, region, {d.regex_extract('route_text', r'- (.+?) data transfer to ', 1)}, "
        f"{d.regex_extract('ut', r'^([A-Z]{2,4}[0-9]?)-', 1)}, 'unknown')"
    )
    dst_ir = (
        f"COALESCE(to_region, {d.regex_extract('ut', _INTER_REGION_UT, 1)}, "
        f"{d.regex_extract('route_text', r'data transfer to (.+)$', 1)}, "
        f"{d.regex_extract('route_text', r'(?i)from .+ to (.+)$', 1)}, "
        f"{d.regex_extract('route_text', r'(?i)data transfer out - (.+)$', 1)}, 'another region')"
    )
    fixed = {
        "internet": "internet",
        "nat": "NAT gateway",
        "inter_zone": "another zone",
        "transit_gateway": "Transit Gateway",
        "vpc_endpoint": "VPC endpoint",
        "cdn_origin": "CDN",
        "google_services": "Google services",
        "inbound": "inbound",
    }
    dst = (
        "CASE "
        + " ".join(f"WHEN transfer_class = {d.lit(k)} THEN {d.lit(v)}" for k, v in fixed.items())
        + f" WHEN transfer_class IN ('inter_region', 'replication') THEN {dst_ir} END"
    )
    gb = (
        "CASE WHEN lu IN ('bytes', 'byte', 'by') THEN 1.0 / 1073741824.0 "
        "WHEN lu LIKE 'tb%' OR lu LIKE 'tebibyte%' OR lu LIKE 'terabyte%' THEN 1024.0 "
        "WHEN lu LIKE 'mb%' OR lu LIKE 'mebibyte%' THEN 1.0 / 1024.0 ELSE 1.0 END"
    )
    storage_by_resource = comp("storage", True)
    return transfer_class, component, src, dst, gb + "|||" + storage_by_resource


def _lowered(d: Dialect, source: str, cols: tuple[str, ...]) -> str:
    ut_in_text = d.regex_extract("route_text", _UT_IN_TEXT, 1)
    return f"""SELECT k.*,
    COALESCE(usage_type, {ut_in_text}) AS ut,
    LOWER(COALESCE(usage_type, {ut_in_text}, '')) AS lut,
    LOWER(COALESCE(route_text, '')) AS ld,
    LOWER(COALESCE(transfer_type, '')) AS ltt,
    LOWER({d.join_text(f"COALESCE(usage_type, {ut_in_text})", "operation", "route_text")}) AS lx,
    LOWER(COALESCE(service, '')) AS ls,
    LOWER(COALESCE(unit, '')) AS lu
  FROM {source} k"""


# Grouping sets of the first statement, identified by the bitmask of GROUPING() flags.
DIMS = ("currency", *KEY, "owner", "usage_date")
SETS: dict[str, tuple[str, ...]] = {
    "totals": ("currency",),
    "keys": ("currency", *KEY, "owner"),
    "daily": ("currency", "usage_date", "owner", "service"),
}


def set_id(dims: tuple[str, ...]) -> int:
    """GROUPING(x) is 1 when x is rolled up; the id is the bitmask over DIMS."""
    return sum(1 << i for i, name in enumerate(DIMS) if name not in dims)


# Text columns statement 1 may read bare (see `Mapping.view_sql`): it groups by them as they are
# and turns '' into NULL on the grouped rows, where the view would do it on every billing row.
RAW_TEXT = frozenset((*KEY, "owner", "currency"))


def _grain_column(d: Dialect, name: str, constant: frozenset[str]) -> str:
    if name in constant:
        return f"{d.null_text} AS {name}"
    if name == "currency":
        return "COALESCE(NULLIF(currency, ''), 'unknown') AS currency"
    if name in RAW_TEXT:
        return f"NULLIF({name}, '') AS {name}"
    return name


def analysis_sql(view_sql: str, d: Dialect, ai: AiPatterns, constant: frozenset[str] = frozenset()) -> str:
    """Statement 1: one pass over the export, aggregated by grouping sets, then classified.

    The pass itself is one GROUP BY at the finest grain the report needs (key, owner, day: a few
    thousand rows for millions of lines); the grouping sets and the classification then run on
    that small result, not on the billing rows. Key columns the export lacks (`constant`, always
    NULL) are carried through without being grouped by. `view_sql` may leave '' in the RAW_TEXT
    columns (NULLIF is applied after the first GROUP BY; the grouping sets merge '' and NULL).

    Returns the `totals` and `daily` rows as aggregated, and the `keys` rows (one per distinct
    key and owner) with their transfer class, route and AI component.
    """
    transfer_class, component, src, dst, rest = _classify(d, ai)
    gb_factor = rest.split("|||")[0]
    spec = ai.components.get("storage", {})
    storage_service = (
        d.regex_like("ls", _alt(spec["storage_service"])) if spec.get("storage_service") else "FALSE"
    )
    flag = " + ".join(f"GROUPING({name}) * {1 << i}" for i, name in enumerate(DIMS))
    sets = ", ".join("(" + ", ".join(dims_) + ")" for dims_ in SETS.values())
    cols = ", ".join(DIMS)
    grain = ("currency", *KEY, "owner", "usage_date")
    grain_select = ", ".join(_grain_column(d, c, constant) for c in grain)
    grain_group = ", ".join(c for c in grain if c not in constant)
    return f"""WITH billing_rows AS (
{view_sql}
),
grain AS (
  SELECT {grain_select},
    COUNT(*) AS n_rows,
    SUM(CASE WHEN cost IS NOT NULL AND usage_date IS NOT NULL THEN 1 ELSE 0 END) AS n_ok,
    SUM(CASE WHEN usage_date IS NOT NULL THEN cost END) AS cost,
    SUM(CASE WHEN cost IS NOT NULL AND usage_date IS NOT NULL THEN quantity END) AS quantity,
    SUM(CASE WHEN usage_date IS NOT NULL AND COALESCE(effective_cost, 1) = 0 AND cost > 0 THEN 1 ELSE 0 END)
      AS n_eff_zero,
    SUM(CASE WHEN cost IS NULL THEN 1 ELSE 0 END) AS n_bad_cost,
    SUM(CASE WHEN usage_date IS NULL THEN 1 ELSE 0 END) AS n_bad_date,
    MIN(period_start) AS period_start
  FROM billing_rows
  GROUP BY {grain_group}
),
agg AS (
  SELECT {flag} AS set_id, {cols},
    SUM(n_rows) AS n_rows,
    SUM(n_ok) AS n_ok,
    SUM(cost) AS cost,
    SUM(quantity) AS quantity,
    SUM(n_eff_zero) AS n_eff_zero,
    SUM(n_bad_cost) AS n_bad_cost,
    SUM(n_bad_date) AS n_bad_date,
    MIN(CASE WHEN n_ok > 0 THEN usage_date END) AS first_date,
    MAX(CASE WHEN n_ok > 0 THEN usage_date END) AS last_date,
    MIN(period_start) AS period_start
  FROM grain
  GROUP BY GROUPING SETS ({sets})
),
lowered AS (
{_lowered(d, "agg", KEY)}
),
classified AS (
  SELECT l.*, {transfer_class} AS transfer_class, {component} AS ai_component
  FROM lowered l
)
SELECT c.*, {src} AS t_src, {dst} AS t_dst, quantity * ({gb_factor}) AS gb,
  CASE WHEN {storage_service} THEN 1 ELSE 0 END AS storage_service
FROM classified c"""


def _in_list(d: Dialect, column: str, values: list[str]) -> str:
    """`column IN (...)`, spelled as ORed equalities when short: DuckDB turns an IN list of five or
    more into a join over every row instead of filtering inside the Parquet scan."""
    if len(values) <= 16:
        return "(" + " OR ".join(f"{column} = {d.lit(v)}" for v in values) + ")"
    return f"{column} IN (" + ", ".join(d.lit(v) for v in values) + ")"


def resources_sql(
    view_sql: str,
    d: Dialect,
    ai: AiPatterns,
    egress: dict[str, list[str]],
    ai_filter: dict[str, list[str]],
    top_n: int = 5,
    key_cols: tuple[str, ...] = KEY,
) -> str:
    """Statement 2: the resources and owners behind the egress keys found by statement 1.

    `egress` and `ai_filter` name KEY values (usage types, descriptions, services) that statement
    1 classified as egress or AI, so only those rows are read again; a transfer line counts as
    AI-related when its resource also bills AI usage (a GPU instance sending data across regions).

    `key_cols` is the part of KEY that tells the selected keys apart (see `distinguishing`): the
    rows are grouped by it alone, the other KEY columns come back NULL and the caller restores
    them. Grouping millions of transfer lines by resource costs per text column. The export is
    read twice (egress rows, AI resources) as plain subqueries rather than one shared CTE, which
    an engine may materialise in full.
    """

    def where(spec: dict[str, list[str]], prefix: str = "") -> str:
        parts = [_in_list(d, prefix + col, vals) for col, vals in spec.items() if vals]
        return "(" + " OR ".join(parts) + ")" if parts else "FALSE"

    group = ", ".join(("currency", *key_cols))
    out_key = ", ".join(c if c in key_cols else f"{d.null_text} AS {c}" for c in KEY)
    rest = f"CASE WHEN rn <= {int(top_n)} THEN resource_id ELSE '' END"
    part = f"{group}, owner, res_ai"
    order = "ORDER BY cost DESC, resource_id"
    head = f"""WITH ai_res AS (
  SELECT DISTINCT resource_id FROM (
{view_sql}
  ) a
  WHERE resource_id IS NOT NULL AND cost IS NOT NULL AND {where(ai_filter)}
),
egress AS (
  SELECT {group}, COALESCE(owner, '') AS owner, COALESCE(resource_id, '') AS resource_id,
    SUM(cost) AS cost, SUM(quantity) AS quantity
  FROM (
{view_sql}
  ) b
  WHERE cost IS NOT NULL AND usage_date IS NOT NULL AND {where(egress)}
  GROUP BY {group}, COALESCE(owner, ''), COALESCE(resource_id, '')
),
"""
    flagged = """SELECT e.*, CASE WHEN a.resource_id IS NULL THEN 0 ELSE 1 END AS res_ai
  FROM egress e LEFT JOIN ai_res a ON e.resource_id = a.resource_id"""
    if d.shares_ctes:
        # Ranking every (key, owner, resource) row is the costliest step on one machine (a sort of
        # a million rows). Only rows at or above their group's n-th largest cost can rank in its
        # top n: those keep their resource and are ranked (same order, same ties), all the others
        # are summed into the group's unnamed row before anything is sorted.
        same = " AND ".join(f"f.{c} IS NOT DISTINCT FROM t.{c}" for c in ("currency", *key_cols))
        fpart = ", ".join(f"f.{c}" for c in ("currency", *key_cols, "owner", "res_ai"))
        cand = "CASE WHEN f.cost >= t.thr THEN 1 ELSE 0 END"
        named = "CASE WHEN f.cost >= t.thr THEN f.resource_id ELSE '' END"
        ranked = f"""flagged AS MATERIALIZED (
  {flagged}
),
thr AS (
  SELECT {part}, {d.top_n_min("cost", top_n)} AS thr FROM flagged GROUP BY {part}
),
pre AS (
  SELECT {fpart}, {cand} AS cand, {named} AS resource_id, SUM(f.cost) AS cost, SUM(f.quantity) AS quantity
  FROM flagged f JOIN thr t ON {same} AND f.owner = t.owner AND f.res_ai = t.res_ai
  GROUP BY {fpart}, {cand}, {named}
),
ranked AS (
  SELECT p.*, CASE WHEN cand = 1 THEN ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY cand DESC, cost DESC,
    resource_id) ELSE {int(top_n) + 1} END AS rn
  FROM pre p
)"""
    else:  # one reference each: an engine that inlines CTEs reads the export once per subquery
        ranked = f"""flagged AS (
  {flagged}
),
ranked AS (
  SELECT f.*, ROW_NUMBER() OVER (PARTITION BY {part} {order}) AS rn
  FROM flagged f
)"""
    return f"""{head}{ranked}
SELECT currency, {out_key}, owner, res_ai, {rest} AS resource_id,
  SUM(cost) AS cost, SUM(quantity) AS quantity
FROM ranked
GROUP BY {part}, {rest}"""


def distinguishing(keys: list[tuple[Any, ...]], spec: dict[str, list[str]]) -> tuple[str, ...]:
    """The fewest KEY columns (greedily, selector columns first) whose values still tell apart
    every key a statement-2 selector `spec` can match; `keys` are KEY tuples from statement 1."""
    chosen = [c for c in ("usage_type", "route_text", "service") if c in spec]
    idx = {c: i for i, c in enumerate(KEY)}

    def clashes(cols: list[str]) -> int:
        return len(keys) - len({tuple(k[idx[c]] for c in cols) for k in keys})

    remaining = [c for c in KEY if c not in chosen]
    while clashes(chosen) and remaining:
        best = min(remaining, key=lambda c: clashes([*chosen, c]))
        chosen.append(best)
        remaining.remove(best)
    return tuple(c for c in KEY if c in chosen)


def storage_resources_sql(view_sql: str, d: Dialect, ai: AiPatterns, services: list[str]) -> str:
    """Statement 3 (optional): plain storage whose resource name says it holds models or data.

    Only rows of the storage services statement 1 found are read; the name test is a regex.
    """
    spec = ai.components.get("storage", {})
    test = d.regex_like("lr", _alt(spec["resource"])) if spec.get("resource") else "FALSE"
    return f"""WITH billing_rows AS (
{view_sql}
)
SELECT COALESCE(currency, 'unknown') AS currency, COALESCE(owner, '') AS owner, service,
  SUM(cost) AS cost
FROM (SELECT b.*, LOWER(COALESCE(service, '')) AS ls, LOWER(COALESCE(resource_id, '')) AS lr
      FROM billing_rows b WHERE cost IS NOT NULL AND usage_date IS NOT NULL
        AND {_in_list(d, "service", services)}) x
WHERE {test}
GROUP BY COALESCE(currency, 'unknown'), COALESCE(owner, ''), service"""


def split_sets(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Result rows of statement 1 by grouping set name."""
    by_id = {set_id(dims): name for name, dims in SETS.items()}
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in SETS}
    for row in rows:
        name = by_id.get(int(row["set_id"]))
        if name is not None:
            out[name].append(row)
    return out
