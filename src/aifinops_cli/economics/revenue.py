"""Revenue per customer: a plans CSV of your own, or a Stripe invoices export.

Plans CSV (one row per customer): `customer, plan, monthly_revenue, included_allowance`
(allowance: standard-model requests the plan includes a month; may be empty).

Stripe (Dashboard > Invoices > Export, the "Default" column set): the columns read are `id`,
`Customer` (the cus_ id), `Customer Name`, `Customer Email`, `Amount Paid` (in the currency's
major unit, as the Dashboard writes it), `Currency`, `Status` and `Date (UTC)`. Only `paid`
invoices count; a customer's monthly revenue is what they paid divided by the calendar months
their paid invoices fall in. A customer is matched to the logs' `customer` by its id, name or
email, whichever the logs use. Invoices in another currency than USD are counted as skipped,
never converted.

Lago (API `GET /api/v1/invoices`: `{"invoices": [invoice objects], "meta": ...}`, a JSON array or
JSON lines of invoice objects, or a CSV whose columns carry the object's field names): the fields
read are `customer.external_id` (CSV: `customer_external_id` or `external_customer_id`),
`customer.name`, `customer.email`, `status`, `payment_status`, `currency`,
`sub_total_excluding_taxes_amount_cents` (else `total_amount_cents`), `issuing_date` and `number`.
Finalized invoices count, in cents / 100, net of tax, unless their payment failed; drafts and
voided ones are left out. A customer's monthly revenue is the total over the calendar months of
their counted invoices' issuing dates, as for Stripe.

OpenMeter (meter query `GET /api/v1/meters/{meter}/query?groupBy=subject`: JSON `{"data":
[{value, windowStart, windowEnd, subject, groupBy}]}`, or its `text/csv` form with `window_start`,
`window_end`, `subject`, `value`) bills usage, not money: revenue is the usage times the unit price
you charge (`economics.openmeter.unit_price_usd`), per subject (your customer id) and calendar
month of `windowStart`.

All files are read by DuckDB (every cell as text, then cast): a row whose amount is not a number
is counted and named by its line, the rest are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from aifinops_cli.economics.settings import EconomicsError

PLAN_COLUMNS = ("customer", "plan", "monthly_revenue", "included_allowance")
LAGO_FIELDS = (
    "customer",
    "customer_name",
    "customer_email",
    "status",
    "payment_status",
    "currency",
    "amount_cents",
    "total_amount_cents",
    "issuing_date",
    "number",
)
# each field's path in the API invoice object and its CSV column name(s)
_LAGO_JSON = (
    "$.customer.external_id",
    "$.customer.name",
    "$.customer.email",
    "$.status",
    "$.payment_status",
    "$.currency",
    "$.sub_total_excluding_taxes_amount_cents",
    "$.total_amount_cents",
    "$.issuing_date",
    "$.number",
)
_LAGO_CSV = (
    ("customer_external_id", "external_customer_id"),
    ("customer_name",),
    ("customer_email",),
    ("status",),
    ("payment_status",),
    ("currency",),
    ("sub_total_excluding_taxes_amount_cents",),
    ("total_amount_cents",),
    ("issuing_date",),
    ("number",),
)
STRIPE_COLUMNS = ("customer", "amount paid", "status", "date (utc)")


@dataclass(frozen=True)
class Revenue:
    customer: str
    plan: str
    monthly_revenue_usd: float
    included_allowance: float | None
    source: str  # the file, and how the month was worked out
    aliases: tuple[str, ...] = ()  # other names the logs may use (Stripe id, name, email)


@dataclass
class RevenueBook:
    by_name: dict[str, Revenue] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # "file:line: why"
    sources: list[str] = field(default_factory=list)

    def add(self, rev: Revenue) -> None:
        for key in (rev.customer, *rev.aliases):
            if key:
                self.by_name.setdefault(key, rev)

    def get(self, customer: str) -> Revenue | None:
        return self.by_name.get(customer)

    def customers(self) -> list[Revenue]:
        return list({id(r): r for r in self.by_name.values()}.values())


def _read(path: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
    if not Path(path).is_file():
        raise EconomicsError(f"{path}: no such file")
    con = duckdb.connect(":memory:")  # its own: the module-level connection is shared
    try:
        cur = con.execute("SELECT * FROM read_csv(?, header=true, all_varchar=true)", [path])
        names = [str(d[0]).strip().lower() for d in cur.description or ()]
        return names, cur.fetchall()
    except duckdb.Error as exc:
        raise EconomicsError(f"{path}: not a readable CSV: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def _amount(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def read_plans(path: str, book: RevenueBook) -> None:
    cols, rows = _read(path)
    missing = [c for c in ("customer", "monthly_revenue") if c not in cols]
    if missing:
        raise EconomicsError(
            f"{path}: a plans CSV needs the columns {', '.join(PLAN_COLUMNS)} (missing: {', '.join(missing)})"
        )
    at = {c: cols.index(c) for c in PLAN_COLUMNS if c in cols}
    book.sources.append(f"{path} (plans CSV)")
    for n, row in enumerate(rows, start=2):
        customer = (row[at["customer"]] or "").strip()
        revenue = _amount(row[at["monthly_revenue"]])
        if not customer or revenue is None:
            book.skipped.append(f"{path}:{n}: no customer or monthly_revenue is not a number")
            continue
        allowance = _amount(row[at["included_allowance"]]) if "included_allowance" in at else None
        plan = (row[at["plan"]] or "").strip() if "plan" in at else ""
        book.add(Revenue(customer, plan, revenue, allowance, f"{path}:{n}"))


def read_stripe(path: str, book: RevenueBook) -> None:
    cols, rows = _read(path)
    missing = [c for c in STRIPE_COLUMNS if c not in cols]
    if missing:
        raise EconomicsError(
            f"{path}: not a Stripe invoices export (missing columns: {', '.join(missing)}); "
            "export Invoices from the Stripe Dashboard with the default columns"
        )
    get = {c: cols.index(c) for c in cols}

    def cell(row: tuple[str | None, ...], name: str) -> str:
        i = get.get(name)
        return (row[i] or "").strip() if i is not None else ""

    book.sources.append(f"{path} (Stripe invoices)")
    paid: dict[str, dict[str, float]] = {}  # customer id -> month -> USD
    names: dict[str, tuple[str, str]] = {}
    for n, row in enumerate(rows, start=2):
        if cell(row, "status").lower() != "paid":
            continue
        currency = cell(row, "currency").lower() or "usd"
        amount = _amount(cell(row, "amount paid"))
        month = cell(row, "date (utc)")[:7]
        customer = cell(row, "customer")
        if currency != "usd":
            book.skipped.append(f"{path}:{n}: invoice in {currency.upper()}, not converted")
            continue
        if amount is None or len(month) != 7 or not customer:
            book.skipped.append(f"{path}:{n}: no customer, Amount Paid or Date (UTC)")
            continue
        paid.setdefault(customer, {}).setdefault(month, 0.0)
        paid[customer][month] += amount
        names[customer] = (cell(row, "customer name"), cell(row, "customer email"))
    for customer, months in sorted(paid.items()):
        total = sum(months.values())
        name, email = names[customer]
        book.add(
            Revenue(
                customer,
                "stripe",
                total / len(months),
                None,
                f"{path}: {len(months)} month(s) of paid invoices, {total:.2f} USD",
                aliases=(name, email),
            )
        )


def _json_rows(path: str, paths: tuple[str, ...], lists: tuple[str, ...]) -> list[tuple[str | None, ...]]:
    """Values at `paths` of each object of a JSON file: an API list response (the objects under the
    first of `lists` the document has), a JSON array or JSON lines of objects."""
    if not Path(path).is_file():
        raise EconomicsError(f"{path}: no such file")
    inner = " ".join(
        f"WHEN json_exists(json, {_lit(p)}) THEN json_extract(json, {_lit(p + '[*]')})" for p in lists
    )
    listed = ", ".join(_lit(p) for p in paths)
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "WITH o AS (SELECT json FROM read_json_objects(?, format='auto')), "
            f"i AS (SELECT unnest(CASE {inner} ELSE [json] END) AS obj FROM o) "
            f"SELECT json_extract_string(obj, [{listed}]) FROM i",
            [path],
        ).fetchall()
        return [tuple(r[0]) for r in rows]
    except duckdb.Error as exc:
        raise EconomicsError(f"{path}: not readable JSON: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_or_json(path: str) -> bool:
    """True for a CSV file (by its name), else JSON."""
    return path.lower().endswith(".csv")


def _monthly(
    book: RevenueBook,
    path: str,
    plan: str,
    amounts: dict[str, dict[str, float]],
    names: dict[str, tuple[str, str]],
) -> None:
    for customer, months in sorted(amounts.items()):
        total = sum(months.values())
        name, email = names.get(customer, ("", ""))
        book.add(
            Revenue(
                customer,
                plan,
                total / len(months),
                None,
                f"{path}: {len(months)} month(s) of {plan} invoices, {total:.2f} USD",
                aliases=(name, email),
            )
        )


def read_lago(path: str, book: RevenueBook) -> None:
    if _csv_or_json(path):
        cols, raw = _read(path)
        at = [next((cols.index(c) for c in names if c in cols), None) for names in _LAGO_CSV]
        need = {
            "customer": at[0],
            "status": at[3],
            "amount": at[6] if at[6] is not None else at[7],
            "date": at[8],
        }
        missing = [k for k, v in need.items() if v is None]
        if missing:
            raise EconomicsError(
                f"{path}: not a Lago invoices file (missing: {', '.join(missing)}); use the API invoice "
                "objects (GET /api/v1/invoices) or a CSV with their field names"
            )
        rows = [tuple(r[i] if i is not None else None for i in at) for r in raw]
        first = 2
    else:
        rows = _json_rows(path, _LAGO_JSON, ("$.invoices", "$.invoice"))
        first = 1
    book.sources.append(f"{path} (Lago invoices)")
    amounts: dict[str, dict[str, float]] = {}
    names: dict[str, tuple[str, str]] = {}
    for n, row in enumerate(rows, start=first):
        f = dict(zip(LAGO_FIELDS, ((v or "").strip() for v in row), strict=True))
        where = f"{path}:{n}" + (f" ({f['number']})" if f["number"] else "")
        if f["status"].lower() != "finalized" or f["payment_status"].lower() == "failed":
            continue
        currency = f["currency"].lower() or "usd"
        cents = _amount(f["amount_cents"]) if f["amount_cents"] else _amount(f["total_amount_cents"])
        month = f["issuing_date"][:7]
        if currency != "usd":
            book.skipped.append(f"{where}: invoice in {currency.upper()}, not converted")
            continue
        if cents is None or len(month) != 7 or not f["customer"]:
            book.skipped.append(f"{where}: no customer external_id, amount or issuing_date")
            continue
        amounts.setdefault(f["customer"], {}).setdefault(month, 0.0)
        amounts[f["customer"]][month] += cents / 100
        names[f["customer"]] = (f["customer_name"], f["customer_email"])
    _monthly(book, path, "lago", amounts, names)


def read_openmeter(path: str, unit_price: float, book: RevenueBook) -> None:
    if _csv_or_json(path):
        cols, raw = _read(path)
        missing = [c for c in ("window_start", "subject", "value") if c not in cols]
        if missing:
            raise EconomicsError(
                f"{path}: not an OpenMeter meter query (missing columns: {', '.join(missing)}); "
                "query the meter with groupBy=subject"
            )
        rows = [tuple(r[cols.index(c)] for c in ("subject", "value", "window_start")) for r in raw]
        first = 2
    else:
        rows = _json_rows(path, ("$.subject", "$.value", "$.windowStart"), ("$.data",))
        first = 1
    book.sources.append(f"{path} (OpenMeter usage x {unit_price:g} USD)")
    amounts: dict[str, dict[str, float]] = {}
    for n, (subject, value, start) in enumerate(rows, start=first):
        usage = _amount(value)
        month = (start or "").strip()[:7]
        if not subject or usage is None or len(month) != 7:
            book.skipped.append(f"{path}:{n}: no subject, value or windowStart")
            continue
        amounts.setdefault(subject.strip(), {}).setdefault(month, 0.0)
        amounts[subject.strip()][month] += usage * unit_price
    _monthly(book, path, "openmeter", amounts, {})


def read_outcomes(path: str) -> tuple[set[str], set[str], list[str]]:
    """An outcomes CSV: `id,outcome` (success|ok|true|1 or failure|failed|false|0): the ids of
    successful and failed sessions, and the lines that were neither."""
    cols, rows = _read(path)
    if "id" not in cols or "outcome" not in cols:
        raise EconomicsError(f"{path}: an outcomes CSV needs the columns id,outcome")
    i, o = cols.index("id"), cols.index("outcome")
    ok, bad, skipped = set(), set(), []
    for n, row in enumerate(rows, start=2):
        value = (row[o] or "").strip().lower()
        ident = (row[i] or "").strip()
        if ident and value in ("success", "succeeded", "ok", "true", "1", "pass", "passed"):
            ok.add(ident)
        elif ident and value in ("failure", "failed", "fail", "error", "false", "0"):
            bad.add(ident)
        else:
            skipped.append(f"{path}:{n}: outcome {value!r} is not success or failure")
    return ok, bad, skipped


def load_revenue(
    plans: str | None,
    stripe: str | None,
    lago: str | None = None,
    openmeter: tuple[str, float] | None = None,
) -> RevenueBook:
    """Every revenue source given; a customer named by two keeps the first (plans, Stripe, Lago,
    OpenMeter)."""
    book = RevenueBook()
    if plans:
        read_plans(plans, book)
    if stripe:
        read_stripe(stripe, book)
    if lago:
        read_lago(lago, book)
    if openmeter:
        read_openmeter(openmeter[0], openmeter[1], book)
    return book
