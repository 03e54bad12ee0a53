"""Tests of clean.order_lines and the marts on small hand-made lines, with shared builders.

Expectations are derived in the tests from SPEC §2/§4 wording (plain pandas, ``Decimal`` for exact sums),
never from the SQL under test. The builders below put lines either in ``raw.transactions`` (then the
clean transform runs) or straight into ``clean.order_lines`` with flags computed here from SPEC §2.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
from sqlalchemy import Engine, text

from retail_platform.defs.sql_assets import run_transform

# SPEC §2 non-product stock codes: exact ones, and the families written with a '*'.
NON_PRODUCT_CODES = frozenset(
    {
        "POST", "DOT", "M", "m", "D", "S", "B", "C2", "C3", "CRUK", "PADS", "ADJUST", "ADJUST2", "AMAZONFEE",
        "BANK CHARGES", "TEST001", "TEST002", "SP1002",
    }
)  # fmt: skip
NON_PRODUCT_PREFIXES = ("gift_0001_", "DCGS")


def spec_is_non_product(stock_code: str) -> bool:
    return stock_code in NON_PRODUCT_CODES or stock_code.startswith(NON_PRODUCT_PREFIXES)


@dataclass(frozen=True)
class Line:
    """One invoice line in canonical form (SPEC §2). Prices are exact decimal text."""

    invoice_no: str
    stock_code: str = "85123A"
    description: str | None = "WHITE HANGING HEART T-LIGHT HOLDER"
    quantity: int = 1
    invoice_date: str = "2010-01-04 10:00:00"
    unit_price: str = "1.00"
    customer_id: int | None = 12345
    country: str = "United Kingdom"

    def but(self, **changes: object) -> Line:
        return replace(self, **changes)


def _params(lines: Iterable[Line]) -> list[dict]:
    rows = []
    for source_row, line in enumerate(lines, start=1):
        row = asdict(line)
        row["invoice_date"] = datetime.fromisoformat(line.invoice_date)
        row["unit_price"] = Decimal(line.unit_price)
        row["source_row"] = source_row
        rows.append(row)
    return rows


def load_raw(engine: Engine, lines: Sequence[Line]) -> None:
    """Insert the lines into raw.transactions (its table raw.transaction_lines) under one raw.file_loads row and
    its export, as a load would."""
    with engine.begin() as conn:
        load_id = conn.execute(
            text(
                "INSERT INTO raw.file_loads (file_name, sha256, size_bytes, status, started_at)"
                " VALUES ('hand_made.csv', 'test', 0, 'loaded', now()) RETURNING load_id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO raw.file_exports (load_id, export_no, export_name)"
                " VALUES (:load_id, 0, 'hand_made.csv')"
            ),
            {"load_id": load_id},
        )
        if not lines:
            return
        conn.execute(
            text(
                "INSERT INTO raw.transaction_lines (line_id, invoice_no, stock_code, description, quantity,"
                " invoice_date, unit_price, customer_id, country, source_row, export_no)"
                " VALUES (:load_id * 4294967296 + :source_row, :invoice_no, :stock_code, :description, :quantity,"
                " :invoice_date, :unit_price, :customer_id, :country, :source_row, 0)"
            ),
            [{**row, "load_id": load_id} for row in _params(lines)],
        )


def build_facts(engine: Engine) -> None:
    """Rebuild the compact facts (migration 018) of every month from clean.order_lines, as the clean asset does
    after its lines: the global marts read these."""
    with engine.begin() as conn:
        run_transform(conn, "clean.order_facts")


def insert_clean(engine: Engine, lines: Sequence[Line]) -> None:
    """Insert the lines straight into clean.order_lines, amount and flags computed here from SPEC §2, and
    their customer x month fact clean.customer_months (which the clean transform maintains with the lines),
    then build the other facts maintained with them (``build_facts``)."""
    rows = []
    for line_id, row in enumerate(_params(lines), start=1):
        invoice_date: datetime = row["invoice_date"]
        rows.append(
            {
                **row,
                "line_id": line_id,
                "invoice_month": invoice_date.date().replace(day=1),
                "amount": row["quantity"] * row["unit_price"],
                "is_cancellation": row["invoice_no"].startswith("C"),
                "is_adjustment": row["invoice_no"].startswith("A"),
                "is_non_product": spec_is_non_product(row["stock_code"]),
            }
        )
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clean.order_lines (line_id, invoice_no, stock_code, description, quantity,"
                " invoice_date, invoice_month, unit_price, amount, customer_id, country, is_cancellation,"
                " is_adjustment, is_non_product)"
                " VALUES (:line_id, :invoice_no, :stock_code, :description, :quantity, :invoice_date,"
                " :invoice_month, :unit_price, :amount, :customer_id, :country, :is_cancellation,"
                " :is_adjustment, :is_non_product)"
            ),
            rows,
        )
        conn.execute(
            text(
                "INSERT INTO clean.customer_months SELECT DISTINCT customer_id, invoice_month"
                " FROM clean.order_lines WHERE customer_id IS NOT NULL ON CONFLICT DO NOTHING"
            )
        )
    build_facts(engine)


def run_transforms(engine: Engine, *tables: str) -> None:
    """Each table's transform as a full refresh (every month that holds data), one transaction each."""
    for table in tables:
        with engine.begin() as conn:
            run_transform(conn, table)


def fetch(engine: Engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def fetch_rows(engine: Engine, sql: str) -> list[tuple]:
    """The rows of ``sql`` as plain tuples, in the database's own types (``Decimal``, ``datetime``, None)."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def build_on_clean(engine: Engine, lines: Sequence[Line], table: str, query: str) -> pd.DataFrame:
    """The lines put straight into clean.order_lines, ``table``'s transform run on them, and ``query``'s rows."""
    insert_clean(engine, lines)
    run_transforms(engine, table)
    return fetch(engine, query)


def lines_frame(lines: Sequence[Line]) -> pd.DataFrame:
    """The lines as a pandas frame: exact ``Decimal`` amounts, timestamps, month periods."""
    frame = pd.DataFrame([asdict(line) for line in lines], columns=list(Line.__dataclass_fields__))
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    frame["unit_price"] = [Decimal(price) for price in frame["unit_price"]]
    frame["amount"] = [q * p for q, p in zip(frame["quantity"], frame["unit_price"], strict=True)]
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame["month"] = frame["invoice_date"].dt.to_period("M")
    return frame


def random_lines(
    seed: int,
    invoices: int,
    months: Sequence[str] = ("2009-12", "2010-01", "2010-02", "2010-04"),
    customers: int = 25,
) -> list[Line]:
    """Seeded invoices of 1..4 lines over the given months: purchases, cancellations ('C', negative
    quantities), bad-debt adjustments ('A', code B), guests, prices with up to three decimals."""
    rng = random.Random(seed)
    products = [f"2{n:04d}" for n in range(40)] + ["85123A", "POST", "M", "DOT"]
    countries = ["United Kingdom", "France", "Germany", "EIRE"]
    lines: list[Line] = []
    for number in range(invoices):
        month = datetime.fromisoformat(f"{rng.choice(months)}-01")
        when = month + timedelta(days=rng.randrange(28), minutes=rng.randrange(24 * 60))
        kind = rng.choices(["sale", "cancel", "adjust"], weights=[80, 17, 3])[0]
        customer = None if rng.random() < 0.2 else rng.randrange(12000, 12000 + customers)
        country = rng.choice(countries)
        prefix = {"sale": "", "cancel": "C", "adjust": "A"}[kind]
        invoice = f"{prefix}{500000 + number}"
        for _ in range(rng.randint(1, 4)):
            if kind == "adjust":
                stock, quantity = "B", 1
                price = Decimal(rng.choice([1, -1]) * rng.randrange(1, 100_000)) / 100
            else:
                stock = rng.choice(products)
                quantity = rng.randint(1, 24) * (-1 if kind == "cancel" else 1)
                price = Decimal(rng.randrange(0, 20_000)) / rng.choice([100, 1000])
                if rng.random() < 0.05:
                    quantity = -quantity  # a return line on an ordinary invoice
            lines.append(
                Line(
                    invoice_no=invoice,
                    stock_code=stock,
                    description=None if rng.random() < 0.05 else f"ITEM {stock}",
                    quantity=quantity,
                    invoice_date=when.isoformat(sep=" "),
                    unit_price=str(price),
                    customer_id=customer,
                    country=country,
                )
            )
    return lines
