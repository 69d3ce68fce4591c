"""The few SQL spellings that differ between DuckDB, Athena (Trino) and BigQuery.

Every billing query is written once (see `queries.py`) against a normalised view; only these
functions and identifier quoting change with the engine, so the same query runs on a laptop
and where the bill already lives.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str  # duckdb | athena | bigquery

    def ident(self, name: str) -> str:
        if self.name == "bigquery":
            return "`" + name.replace("`", "") + "`"
        return '"' + name.replace('"', '""') + '"'

    def path(self, parts: tuple[str, ...]) -> str:
        """A (possibly nested) column: struct fields are reached with dots in all three."""
        return ".".join(self.ident(p) for p in parts)

    @staticmethod
    def lit(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def regex_extract(self, expr: str, pattern: str, group: int = 1) -> str:
        """First match of capture group `group` (BigQuery only returns the one group it has)."""
        if self.name == "bigquery":
            return f"REGEXP_EXTRACT({expr}, r{self.lit(pattern)})"
        if self.name == "athena":
            return f"regexp_extract({expr}, {self.lit(pattern)}, {group})"
        return f"nullif(regexp_extract({expr}, {self.lit(pattern)}, {group}), '')"

    def regex_like(self, expr: str, pattern: str) -> str:
        if self.name == "bigquery":
            return f"REGEXP_CONTAINS({expr}, r{self.lit(pattern)})"
        if self.name == "athena":
            return f"regexp_like({expr}, {self.lit(pattern)})"
        return f"regexp_matches({expr}, {self.lit(pattern)})"

    def join_text(self, *exprs: str) -> str:
        """The non-NULL texts joined with ' | ' (NULLs skipped in all three)."""
        if self.name == "bigquery":
            return f"ARRAY_TO_STRING([{', '.join(exprs)}], ' | ')"
        return f"concat_ws(' | ', {', '.join(exprs)})"

    def top_n_min(self, expr: str, n: int) -> str:
        """Aggregate: the n-th largest value of `expr` in the group (the least when it has fewer),
        the cost a resource needs to rank in the group's top n."""
        if self.name == "bigquery":
            return (
                f"ARRAY_REVERSE(ARRAY_AGG({expr} IGNORE NULLS ORDER BY {expr} DESC LIMIT {int(n)}))"
                "[SAFE_OFFSET(0)]"
            )
        if self.name == "athena":
            return f"array_min(max({expr}, {int(n)}))"
        return f"list_min(max({expr}, {int(n)}))"

    @property
    def shares_ctes(self) -> bool:
        """A CTE read twice is computed once (DuckDB, `AS MATERIALIZED`); Trino and BigQuery
        inline it, so there a second reference reads the export again."""
        return self.name == "duckdb"

    def try_double(self, expr: str) -> str:
        if self.name == "bigquery":
            return f"SAFE_CAST({expr} AS FLOAT64)"
        return f"TRY_CAST({expr} AS DOUBLE)"

    def finite(self, expr: str) -> str:
        """`expr` when it is a finite number, else NULL: `1e400`, `inf` and `nan` parse as doubles
        but are no amount (and would write `Infinity`, invalid JSON, into the report)."""
        if self.name == "bigquery":
            return f"IF(IS_INF({expr}) OR IS_NAN({expr}), NULL, {expr})"
        if self.name == "athena":
            return f"IF(is_finite({expr}), {expr})"
        return f"CASE WHEN isfinite({expr}) THEN {expr} END"

    def finite_double(self, expr: str) -> str:
        """`expr` as a finite double, else NULL (text that is no number, `1e400`, `inf`, `nan`).

        DuckDB spells it `try(CASE ... CAST ...)`: a TRY_CAST used twice in one expression is
        pushed into the CSV reader as a plain typed column (DuckDB 2.0), and one bad cell then
        fails the whole file."""
        if self.name == "duckdb":
            return f"try(CASE WHEN isfinite(CAST({expr} AS DOUBLE)) THEN CAST({expr} AS DOUBLE) END)"
        return self.finite(self.try_double(expr))

    def try_date(self, expr: str) -> str:
        """The day of a timestamp that may be text (zone-less or ISO with Z) or typed already."""
        if self.name == "bigquery":
            return f"DATE(SAFE_CAST({expr} AS TIMESTAMP))"
        if self.name == "athena":
            # Athena CUR tables type the dates; text ones are ISO 8601
            iso = f"TRY(from_iso8601_timestamp(CAST({expr} AS VARCHAR)))"
            return f"CAST(COALESCE(TRY_CAST({expr} AS TIMESTAMP), {iso}) AS DATE)"
        return f"CAST(TRY_CAST({expr} AS TIMESTAMP) AS DATE)"

    def text(self, expr: str) -> str:
        if self.name == "bigquery":
            return f"CAST({expr} AS STRING)"
        return f"CAST({expr} AS VARCHAR)"

    @property
    def null_text(self) -> str:
        return "CAST(NULL AS STRING)" if self.name == "bigquery" else "CAST(NULL AS VARCHAR)"

    @property
    def null_double(self) -> str:
        return "CAST(NULL AS FLOAT64)" if self.name == "bigquery" else "CAST(NULL AS DOUBLE)"

    def map_value(self, expr: str, key: str) -> str:
        """One key of a map<string,string> column (CUR 2.0 `product`, `resource_tags`)."""
        if self.name == "athena":
            return f"element_at({expr}, {self.lit(key)})"
        return f"{expr}[{self.lit(key)}]"

    def to_json_text(self, expr: str) -> str:
        if self.name == "bigquery":
            return f"TO_JSON_STRING({expr})"
        if self.name == "athena":
            return f"json_format(CAST({expr} AS JSON))"
        return f"CAST(to_json({expr}) AS VARCHAR)"

    def list_amount_sum(self, expr: str) -> str:
        """Sum of `.amount` over a repeated record (GCP `credits`)."""
        if self.name == "bigquery":
            return f"(SELECT SUM(c.amount) FROM UNNEST({expr}) AS c)"
        if self.name == "athena":
            return f"reduce({expr}, 0.0, (s, c) -> s + c.amount, s -> s)"
        return f"list_sum(list_transform({expr}, lambda c: TRY_CAST(c.amount AS DOUBLE)))"


DUCKDB = Dialect("duckdb")
ATHENA = Dialect("athena")
BIGQUERY = Dialect("bigquery")
