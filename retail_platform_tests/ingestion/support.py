"""Shared builders and warehouse probes for the ingestion tests.

Expected rows are derived from the generator's own frames (``iter_sample_chunks``), never from the loader, so
that a test compares what was written with what was loaded.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from retail_platform.sample_data import CANONICAL_COLUMNS, iter_sample_chunks

# A canonical line as Python values: (invoice_no, stock_code, description, quantity, invoice_date, unit_price,
# customer_id, country), description and customer_id None when missing.
CanonicalRow = tuple


def sample_frame(rows: int, seed: int, **kwargs: object) -> pd.DataFrame:
    """The generator's canonical frame, exactly what ``write_sample(path, rows, seed, ...)`` writes."""
    return pd.concat(list(iter_sample_chunks(rows, seed, **kwargs)), ignore_index=True)


def frame_rows(frame: pd.DataFrame) -> list[CanonicalRow]:
    """The frame's lines as canonical Python values, in file order."""
    rows = []
    for rec in frame[list(CANONICAL_COLUMNS)].itertuples(index=False, name=None):
        invoice, stock, description, quantity, date, price, customer, country = rec
        rows.append(
            (
                str(invoice),
                str(stock),
                None if pd.isna(description) else str(description),
                int(quantity),
                pd.Timestamp(date).to_pydatetime(),
                Decimal(repr(float(price))),
                None if pd.isna(customer) else int(customer),
                str(country),
            )
        )
    return rows


def loaded_rows(engine: Engine, where: str = "TRUE", params: dict | None = None) -> list[CanonicalRow]:
    """Canonical columns of raw.transactions in file order (load, export, row); insert order is not promised."""
    with engine.connect() as conn:
        result = conn.execute(
            text(
                "SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,"
                f" country FROM raw.transactions WHERE {where} ORDER BY load_id, source_export, source_row"
            ),
            params or {},
        )
        return [tuple(row) for row in result]


def ledger(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(row)
            for row in conn.execute(text("SELECT * FROM raw.file_loads ORDER BY load_id")).mappings()
        ]


def rejected(engine: Engine, load_id: int | None = None) -> list[dict]:
    where = "TRUE" if load_id is None else "load_id = :load_id"
    with engine.connect() as conn:
        return [
            dict(row)
            for row in conn.execute(
                text(f"SELECT * FROM raw.rejected_lines WHERE {where} ORDER BY source_export, source_row"),
                {"load_id": load_id},
            ).mappings()
        ]


def wipe(engine: Engine) -> None:
    """Empty the raw layer: lines, exports, rejected lines and the ledger."""
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE raw.transaction_lines, raw.file_exports, raw.rejected_lines, raw.file_loads")
        )


def count(engine: Engine, table: str, where: str = "TRUE", params: dict | None = None) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params or {}).scalar_one()


def assert_accounting(engine: Engine) -> None:
    """SPEC §3 for every file in the ledger, and the ledger agrees with the tables it summarises."""
    for row in ledger(engine):
        assert (
            row["lines_read"] == row["lines_loaded"] + row["lines_already_present"] + row["lines_rejected"]
        ), row
        in_table = count(engine, "raw.transactions", "load_id = :id", {"id": row["load_id"]})
        assert in_table == row["lines_loaded"], row
        if row["status"] == "loaded":
            kept = count(engine, "raw.rejected_lines", "load_id = :id", {"id": row["load_id"]})
            assert kept == row["lines_rejected"], row


def write_lines(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], encoding: str = "utf-8"
) -> Path:
    """CSV (``.csv`` or ``.csv.gz``) with the given header and rows, as the csv module writes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def csv_records(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data records of a CSV file written by the generator (UTF-8)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as stream:
        records = list(csv.reader(stream))
    return records[0], records[1:]


def multiset(rows: Iterable[CanonicalRow]) -> Counter:
    return Counter(rows)
