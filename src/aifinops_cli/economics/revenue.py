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

Both files are read by DuckDB (every cell as text, then cast): a row whose amount is not a number
is counted and named by its line, the rest are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from aifinops_cli.economics.settings import EconomicsError

PLAN_COLUMNS = ("customer", "plan", "monthly_revenue", "included_allowance")
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


def load_revenue(plans: str | None, stripe: str | None) -> RevenueBook:
    book = RevenueBook()
    if plans:
        read_plans(plans, book)
    if stripe:
        read_stripe(stripe, book)
    return book
