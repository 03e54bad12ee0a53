"""Small builders for hand-made test data, and the catalog lookups tests share."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import Connection, text

UCI2_HEADER = [
    "Invoice",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "Price",
    "Customer ID",
    "Country",
]


def line(
    invoice: str = "489434",
    stock: str = "85048",
    description: str | None = "15CM CHRISTMAS GLASS BALL 20 LIGHTS",
    quantity: int | str = 12,
    date: str = "2009-12-01 07:45:00",
    price: float | str = 6.95,
    customer: int | str | None = 13085,
    country: str = "United Kingdom",
) -> list[str]:
    """One CSV line in the real file's style; every field overridable (as text for malformed values)."""
    return [
        invoice,
        stock,
        description or "",
        str(quantity),
        date,
        str(price),
        "" if customer is None else str(customer),
        country,
    ]


def write_csv(
    path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = UCI2_HEADER, encoding: str = "utf-8"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def index_definitions(conn: Connection, table: str) -> list[str]:
    """The ``CREATE INDEX`` statements of ``table`` (``schema.name``) as the connection sees them, sorted."""
    schema, name = table.split(".")
    return sorted(
        conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE schemaname = :schema AND tablename = :name"),
            {"schema": schema, "name": name},
        ).scalars()
    )
