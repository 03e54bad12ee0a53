"""Synthetic invoice lines shaped like the UCI *Online Retail II* export (SPEC §2): the public API.

Why this exists: the real data set cannot ship with the project, yet the pipeline, its tests and its demos
need input that looks and misbehaves like the real thing: skewed customers and baskets, a UK-dominated
country mix, Christmas seasonality, cancellations, bad-debt adjustments, non-product stock codes, guest
checkouts, missing descriptions, zero and 0.001 prices, +/-80,995 quantities and identical lines scanned
twice. Everything is vectorised numpy, generated chunk by chunk so that ten million lines never sit in
memory at once, and deterministic for a given ``(rows, seed, chunk_rows)``. How a chunk is made is told
in ``chunk.py``; the numbers behind it are in ``calibration.py``, ``specials.py`` and ``catalogue.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from retail_platform.ingestion.columns import CANONICAL_COLUMNS
from retail_platform.sample_data.calibration import (
    DEFAULT_DAYS,
    DEFAULT_START,
    FIRST_INVOICE_NO,
    HUGE_QUANTITY,
    MAX_CUSTOMER_ID,
    MIN_CHUNK_FOR_QUIRKS,
    MIN_CUSTOMER_ID,
)
from retail_platform.sample_data.catalogue import build_catalogue
from retail_platform.sample_data.chunk import make_chunk
from retail_platform.sample_data.customers import customer_pool
from retail_platform.sample_data.timeline import build_timeline
from retail_platform.sample_data.writers import (
    EXCEL_MAX_ROWS,
    output_format,
    write_csv,
    write_parquet,
    write_xlsx,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "DEFAULT_DAYS",
    "DEFAULT_START",
    "EXCEL_MAX_ROWS",
    "FIRST_INVOICE_NO",
    "HEADER_SPELLINGS",
    "HUGE_QUANTITY",
    "MAX_CUSTOMER_ID",
    "MIN_CHUNK_FOR_QUIRKS",
    "MIN_CUSTOMER_ID",
    "build_catalogue",
    "build_timeline",
    "customer_pool",
    "iter_sample_chunks",
    "make_chunk",
    "write_sample",
]

HEADER_SPELLINGS: dict[str, dict[str, str]] = {
    "uci2": {
        "invoice_no": "Invoice",
        "stock_code": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "invoice_date": "InvoiceDate",
        "unit_price": "Price",
        "customer_id": "Customer ID",
        "country": "Country",
    },
    "uci1": {
        "invoice_no": "InvoiceNo",
        "stock_code": "StockCode",
        "description": "Description",
        "quantity": "Quantity",
        "invoice_date": "InvoiceDate",
        "unit_price": "UnitPrice",
        "customer_id": "CustomerID",
        "country": "Country",
    },
    "snake": {column: column for column in CANONICAL_COLUMNS},
}

# The OLTP simulator draws its baskets from the generator's own catalogue, customers and chunks under these
# earlier names; they stay until it moves to the public ones above.
_catalogue = build_catalogue
_customers = customer_pool
_timeline = build_timeline
_make_chunk = make_chunk


def iter_sample_chunks(
    rows: int,
    seed: int,
    chunk_rows: int = 200_000,
    *,
    start: str = DEFAULT_START,
    days: int = DEFAULT_DAYS,
) -> Iterator[pd.DataFrame]:
    """Yield synthetic invoice lines in canonical columns, ``chunk_rows`` at a time, ``rows`` in total.

    Deterministic for ``(rows, seed, chunk_rows, start, days)``; memory is bounded by the chunk size. Each
    chunk of at least ``MIN_CHUNK_FOR_QUIRKS`` lines holds every quirk, so the rare ones (bad debt, the
    80,995 pair) occur about once per chunk. ``customer_id`` is pandas ``Int64`` (missing for guests);
    ``invoice_date`` is ``datetime64[us]`` at minute resolution, shop-local, without time zone.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    catalogue = build_catalogue(seed)
    customers = customer_pool(rows, seed)
    timeline = build_timeline(str(start), days)
    invoice_no = FIRST_INVOICE_NO
    for index, offset in enumerate(range(0, rows, chunk_rows)):
        rng = np.random.default_rng([seed, 0x11E5, index])
        n = min(chunk_rows, rows - offset)
        frame, invoice_no = make_chunk(rng, n, offset, rows, invoice_no, catalogue, customers, timeline)
        yield frame


def write_sample(
    path: str | os.PathLike[str],
    rows: int,
    seed: int,
    spelling: str = "uci2",
    chunk_rows: int = 200_000,
    *,
    start: str = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    encoding: str = "utf-8",
    float_customer_ids: bool = False,
) -> int:
    """Stream a sample file in the format its suffix names; return the number of lines written.

    CSV follows the real export: ``2009-12-01 07:45:00`` dates, prices as Python prints floats (``2.1``,
    ``18.0``), integer customer ids (``13085``, or ``13085.0`` with ``float_customer_ids``), empty fields
    for missing values. ``encoding`` applies to CSV only (``utf-8-sig`` writes a BOM; ``latin-1`` works).
    Identical arguments give identical bytes (the gzip timestamp is zeroed).
    """
    if spelling not in HEADER_SPELLINGS:
        raise ValueError(f"unknown spelling {spelling!r}; choose from {sorted(HEADER_SPELLINGS)}")
    target = Path(path)
    fmt = output_format(target)
    if fmt == ".xlsx" and rows > EXCEL_MAX_ROWS:
        raise ValueError(f"an .xlsx sheet holds at most {EXCEL_MAX_ROWS} lines, asked for {rows}")
    target.parent.mkdir(parents=True, exist_ok=True)
    names = [HEADER_SPELLINGS[spelling][c] for c in CANONICAL_COLUMNS]
    chunks = iter_sample_chunks(rows, seed, chunk_rows, start=start, days=days)
    if float_customer_ids:
        chunks = _float_customer_ids(chunks)
    if fmt == ".parquet":
        return write_parquet(target, chunks, names, float_customer_ids)
    if fmt == ".xlsx":
        year = pd.Timestamp(start).year
        return write_xlsx(target, chunks, names, f"Year {year}-{year + 1}")
    return write_csv(target, chunks, names, compressed=fmt == ".csv.gz", encoding=encoding)


def _float_customer_ids(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Customer ids as float64, the way some exports print them (``13085.0``)."""
    for frame in chunks:
        frame["customer_id"] = frame["customer_id"].astype("float64")
        yield frame
