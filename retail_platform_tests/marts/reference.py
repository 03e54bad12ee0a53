"""The global marts' definitions on the lines (SPEC 4.1, 4.3 and the country and product views), computed here
in pandas from the rows of ``clean.order_lines``: the oracle the facts-based marts (migration 018) must equal row
for row. It shares no SQL with the marts: each definition is written again from the SPEC and the marts' column
comments, in exact ``Decimal`` arithmetic.

Two kinds of columns are not plain sums, counts or picks, and follow the marts' declared arithmetic:
- percentiles (``percentile_cont`` over ``float8``, then ``::numeric``): linear interpolation in binary floats,
  kept to 15 significant digits as PostgreSQL's float-to-numeric cast does (``float_numeric``);
- quotients (the mean, a country's share of sales): PostgreSQL's numeric division keeps at least 16
  significant digits; both sides are compared rounded to ``QUOTIENT_PLACES`` decimal places.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, localcontext

import pandas as pd
from sqlalchemy import Engine, text

from retail_platform.warehouse.sql_files import read_sql

QUOTIENT_PLACES = Decimal("1e-12")
TOP_PRODUCTS = 100


def order_lines(engine: Engine) -> pd.DataFrame:
    """Every row of clean.order_lines: amounts as ``Decimal``, timestamps as ``datetime``, customer_id a nullable
    integer."""
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM clean.order_lines"))
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    flags = {flag: bool for flag in ("is_cancellation", "is_adjustment", "is_non_product")}
    return frame.astype({"customer_id": "Int64", "quantity": "int64", **flags})


def _total(values: pd.Series) -> Decimal:
    return sum(values, Decimal(0))


def _quotient(numerator: Decimal, denominator: Decimal | int) -> Decimal:
    with localcontext(prec=60):
        return (numerator / denominator).quantize(QUOTIENT_PLACES)


def _percentile(amounts: list[Decimal], fraction: float) -> Decimal:
    """Linear interpolation between the closest ranks, in floats; 15 significant digits (a float's DBL_DIG)."""
    values = sorted(float(amount) for amount in amounts)
    position = fraction * (len(values) - 1)
    low, high = values[math.floor(position)], values[math.ceil(position)]
    return Decimal(f"{low + (high - low) * (position - math.floor(position)):.15g}")


def _distinct(frame: pd.DataFrame, by: str, column: str) -> pd.Series:
    """The number of distinct non-null ``column`` values per ``by``."""
    return frame.dropna(subset=[column]).groupby(by)[column].nunique()


def invoice_amounts(lines: pd.DataFrame) -> list[tuple]:
    """SPEC 4.1: per invoice with a line of amount > 0, the sum of those lines' amounts."""
    positive = lines[lines["amount"] > 0]
    return [(invoice, _total(group)) for invoice, group in positive.groupby("invoice_no")["amount"]]


def invoice_amount_counts(lines: pd.DataFrame) -> list[tuple]:
    """Each distinct invoice amount (SPEC 4.1) with how many invoices have it."""
    return sorted(Counter(amount for _invoice, amount in invoice_amounts(lines)).items())


def invoice_amount_stats(lines: pd.DataFrame) -> list[tuple]:
    """SPEC 4.1, per variant: count, min, mean, median, mode (the smallest of the most frequent), max, 85th
    percentile, and the cutoff (the 85th percentile of all invoices) that the variant without outliers keeps
    amounts at or below."""
    amounts = [amount for _invoice, amount in invoice_amounts(lines)]
    if not amounts:
        return []
    cutoff = _percentile(amounts, 0.85)
    rows = []
    for variant, kept in (("all", amounts), ("without_outliers", [a for a in amounts if a <= cutoff])):
        counts = pd.Series(kept).value_counts()
        mode = min(amount for amount, n in counts.items() if n == counts.max())
        rows.append(
            (
                variant,
                len(kept),
                min(kept),
                _quotient(_total(kept), len(kept)),
                _percentile(kept, 0.5),
                mode,
                max(kept),
                _percentile(kept, 0.85),
                cutoff,
            )
        )
    return rows


def sales_by_country(lines: pd.DataFrame) -> list[tuple]:
    """Per country with lines: distinct invoices that are neither cancellations nor adjustments, distinct known
    customers, net sales over every line, the share of the shop's net sales, distinct cancellation invoices."""
    net = lines.groupby("country")["amount"].agg(_total)
    orders = lines[~lines["is_cancellation"] & ~lines["is_adjustment"]]
    invoices = orders.groupby("country")["invoice_no"].nunique()
    canceled = lines[lines["is_cancellation"]].groupby("country")["invoice_no"].nunique()
    customers = _distinct(lines, "country", "customer_id")
    shop = _total(net)
    return [
        (
            country,
            int(invoices.get(country, 0)),
            int(customers.get(country, 0)),
            sales,
            _quotient(sales, shop) if shop else None,
            int(canceled.get(country, 0)),
        )
        for country, sales in net.items()
    ]


def top_products(lines: pd.DataFrame) -> list[tuple]:
    """The 100 products of highest net sales (ties: the smaller stock code) over product lines (no non-product
    code, no adjustment; cancellations count): units, net sales, the most used description (ties: the smallest),
    distinct invoices that are not cancellations, distinct known customers."""
    products = lines[~lines["is_non_product"] & ~lines["is_adjustment"]]
    per_product = products.groupby("stock_code").agg(
        units_sold=("quantity", "sum"), net_sales=("amount", _total)
    )
    ranked = sorted(per_product.itertuples(), key=lambda p: (-p.net_sales, p.Index))[:TOP_PRODUCTS]
    invoices = products[~products["is_cancellation"]].groupby("stock_code")["invoice_no"].nunique()
    customers = _distinct(products, "stock_code", "customer_id")
    rows = []
    for rank, product in enumerate(ranked, start=1):
        uses = products.loc[products["stock_code"] == product.Index, "description"].dropna().value_counts()
        description = min((d for d, n in uses.items() if n == uses.max()), default=None)
        rows.append(
            (
                rank,
                product.Index,
                description,
                int(product.units_sold),
                product.net_sales,
                int(invoices.get(product.Index, 0)),
                int(customers.get(product.Index, 0)),
            )
        )
    return rows


def rfm_customer_facts(lines: pd.DataFrame) -> list[tuple]:
    """SPEC 4.3 on the purchase lines (customer known, quantity > 0, amount > 0, a description), per customer:
    the last purchase, the number of distinct invoices, the sum of amount; by customer."""
    purchases = lines[
        lines["customer_id"].notna()
        & (lines["quantity"] > 0)
        & (lines["amount"] > 0)
        & lines["description"].notna()
    ]
    return [
        (int(customer), group["invoice_date"].max(), group["invoice_no"].nunique(), _total(group["amount"]))
        for customer, group in purchases.groupby("customer_id")
    ]


def customer_invoices(lines: pd.DataFrame) -> list[tuple]:
    """The view marts.customer_invoices as migration 011 defined it on the lines: per known customer and
    invoice, the first line's date, the smallest country, whether a cancellation, lines, units, amount."""
    known = lines[lines["customer_id"].notna()]
    return [
        (
            int(customer),
            invoice,
            group["invoice_date"].min(),
            group["country"].min(),
            bool(group["is_cancellation"].any()),
            len(group),
            int(group["quantity"].sum()),
            _total(group["amount"]),
        )
        for (customer, invoice), group in known.groupby(["customer_id", "invoice_no"])
    ]


@dataclass(frozen=True)
class Definition:
    query: str  # the mart, or the query, as read from the facts
    rows: Callable[[pd.DataFrame], list[tuple]]  # its definition on the lines
    quotients: tuple[int, ...] = ()  # the columns that are quotients
    ordered: bool = False  # whether the query's order is part of its result (else both sides are sorted)


def _query(name: str) -> str:
    return read_sql(f"queries/{name}.sql").strip().rstrip(";")


DEFINITIONS = {
    "marts.invoice_amount_stats": Definition(
        "SELECT * FROM marts.invoice_amount_stats", invoice_amount_stats, quotients=(3,)
    ),
    "marts.sales_by_country": Definition(
        "SELECT * FROM marts.sales_by_country", sales_by_country, quotients=(4,)
    ),
    "marts.top_products": Definition("SELECT * FROM marts.top_products", top_products),
    "queries/rfm_customer_facts.sql": Definition(
        _query("rfm_customer_facts"), rfm_customer_facts, ordered=True
    ),
    "queries/invoice_amounts.sql": Definition(_query("invoice_amounts"), invoice_amount_counts),
    "marts.customer_invoices": Definition("SELECT * FROM marts.customer_invoices", customer_invoices),
}


def _comparable(row: tuple, quotients: tuple[int, ...]) -> tuple:
    return tuple(
        value.quantize(QUOTIENT_PLACES) if index in quotients and value is not None else value
        for index, value in enumerate(row)
    )


def against_lines(engine: Engine) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Per definition: the rows read from the facts and the rows of its definition on clean.order_lines, sorted
    (by their first column, a key) unless the query orders them, quotients rounded to ``QUOTIENT_PLACES``."""
    lines = order_lines(engine)
    compared = {}
    with engine.connect() as conn:
        for name, definition in DEFINITIONS.items():
            from_facts = [
                _comparable(tuple(row), definition.quotients) for row in conn.execute(text(definition.query))
            ]
            from_lines = definition.rows(lines)
            if not definition.ordered:
                from_facts, from_lines = sorted(from_facts), sorted(from_lines)
            compared[name] = (from_facts, from_lines)
    return compared
