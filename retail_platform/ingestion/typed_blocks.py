"""Typing a block of lines in Python, vectorized: the fast path of the loader (see ``loader``).

A block is typed here only when every value is in one of the plain spellings below, whose canonical form is
known exactly; anything else (another spelling PostgreSQL's checks accept, or a bad value) sends the whole
block to the SQL checks (``sql/ingestion/02_check_stage.sql``), so that both paths always give the same
values. A typed block leaves as the rows of a binary COPY into ``raw.transaction_lines`` (``pgcopy``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_platform.ingestion.columns import CANONICAL_COLUMNS, MAX_FIELD_CHARS, LoadBounds
from retail_platform.ingestion.pgcopy import (
    NULL_FIELD,
    PG_EPOCH_US,
    fixed_size,
    number_fields,
    numeric_fields,
    string_data,
    text_fields,
)

# The columns of a typed block's COPY rows, in order (raw.transaction_lines and load_batch alike).
ROW_COLUMNS = (
    "line_id, source_row, export_no, invoice_no, stock_code, description, quantity, invoice_date, "
    "unit_price, customer_id, country"
)
_ROW_PREFIX = np.dtype(  # field count, then line_id, source_row (int8) and export_no (int2)
    [
        ("fields", ">i2"),
        ("line_id_size", ">i4"),
        ("line_id", ">i8"),
        ("source_row_size", ">i4"),
        ("source_row", ">i8"),
        ("export_no_size", ">i4"),
        ("export_no", ">i2"),
    ]
)
_NOT_BLANK = r"[^ ]"  # SQL's trim() removes spaces only
_INTEGER = r"^-?[0-9]{1,9}$"
_CUSTOMER = r"^-?[0-9]{1,9}(\.0+)?$"
_PRICE = r"^-?[0-9]{1,15}(\.[0-9]{1,12})?$"
_TIMESTAMP = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)
_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Typed:
    """A block typed by the loader: binary COPY rows of raw.transaction_lines, its first and last date, and
    the months of its lines (``YYYY-MM-01``; the ledger records the months each load touched)."""

    rows: memoryview  # binary COPY rows, without the header and trailer
    first_date: str
    last_date: str
    months: tuple[str, ...] = ()


class Prepared(NamedTuple):
    block: pa.Table
    typed: Typed | None  # None: the SQL checks type the block
    suspects: bool  # an invoice of the block was in an earlier block of the export
    first_line_id: int


def prepared_blocks(
    blocks: Iterator[pa.Table],
    load_id: int,
    export_no: int,
    first_position: int,
    bounds: LoadBounds | None = None,
) -> Iterator[Prepared]:
    """The blocks of an export, typed where the loader can, with their suspects (invoices also found in
    earlier blocks, whose lines may have identical copies there) and the line_id of their first line:
    ``load_id * 2^32`` plus the line's position among the lines the load read."""
    bounds = bounds or LoadBounds.at()
    seen_invoices: set[str] = set()
    position = first_position
    for block in blocks:
        invoices = set(pc.unique(block.column("invoice_no")).drop_null().to_pylist())
        suspects = not invoices.isdisjoint(seen_invoices)
        seen_invoices |= invoices
        first_line_id = (load_id << 32) + position
        try:
            typed = type_block(block, export_no, first_line_id, bounds)
        except (pa.ArrowException, ValueError, OverflowError):
            typed = None  # a value this code did not foresee: SQL decides
        yield Prepared(block, typed, suspects, first_line_id)
        position += block.num_rows


def _matches(values: pa.Array, pattern: str) -> bool:
    mask = pc.match_substring_regex(values, pattern)
    return mask.null_count == 0 and pc.all(mask).as_py() is not False


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


class _Column:
    """One column of a block, dictionary-encoded: values are checked and rewritten once per distinct value
    (a block of 90,000 lines has a few thousand descriptions, prices, dates), then expanded."""

    def __init__(self, values: pa.ChunkedArray) -> None:
        encoded = pc.dictionary_encode(values.combine_chunks())
        self.values: pa.Array = encoded.dictionary
        self.indices: pa.Array = encoded.indices
        self.has_nulls = encoded.null_count > 0

    def expand(self, values: pa.Array, null: bytes | None = None) -> pa.Array:
        """``values`` (one per distinct value) for every line; missing ones as ``null``."""
        expanded = values.take(self.indices)
        return pc.fill_null(expanded, null) if null is not None and expanded.null_count else expanded


def type_block(
    block: pa.Table, export_no: int, first_line_id: int, bounds: LoadBounds | None = None
) -> Typed | None:
    """The block as rows of a binary COPY into raw.transaction_lines (line ids from ``first_line_id``, whose
    high half is the load); None when a value is not in a plain spelling or not plausible (``bounds``; the SQL
    checks then decide and give the reason). Each field is built once per distinct value and expanded."""
    bounds = bounds or LoadBounds.at()
    rows = block.num_rows
    if not rows or block.column("structural_error").null_count != rows:
        return None
    columns = [_Column(block.column(name)) for name in CANONICAL_COLUMNS]
    invoice, stock, description, quantity, date, price, customer, country = columns
    if any(column.has_nulls for column in columns if column is not description and column is not customer):
        return None
    if any(_any(pc.match_substring(column.values, "\x00")) for column in columns):
        return None
    if not all(_matches(column.values, _NOT_BLANK) for column in (invoice, stock, country)):
        return None
    # customer: '' (a guest) is NULL; description: '' is NULL
    customer_values = pc.if_else(pc.equal(customer.values, ""), _NULL, customer.values)
    description_values = pc.if_else(pc.equal(description.values, ""), _NULL, description.values)
    if not (
        _matches(quantity.values, _INTEGER)
        and _matches(date.values, _TIMESTAMP)
        and _matches(price.values, _PRICE)
        and pc.all(
            pc.or_kleene(pc.is_null(customer_values), pc.match_substring_regex(customer_values, _CUSTOMER))
        ).as_py()
        and _valid_timestamps(date.values)
    ):
        return None
    dates = pc.min_max(date.values)
    if not _plausible(dates, quantity.values, price.values, customer_values, bounds):
        return None
    if any(_longest(column.values) > MAX_FIELD_CHARS for column in (invoice, stock, description, country)):
        return None

    if _any(pc.match_substring(customer_values, ".")):
        customer_values = pc.replace_substring_regex(customer_values, r"\.0+$", "")
    moments = pc.cast(pc.strptime(date.values, format="%Y-%m-%d %H:%M:%S", unit="us"), pa.int64())
    copy_rows = pc.binary_join_element_wise(
        _row_prefixes(block, export_no, first_line_id),
        invoice.expand(text_fields(invoice.values)),
        stock.expand(text_fields(stock.values)),
        description.expand(text_fields(description_values), null=NULL_FIELD),
        quantity.expand(number_fields(pc.cast(quantity.values, pa.int32()), ">i4")),
        date.expand(number_fields(pc.subtract(moments, PG_EPOCH_US), ">i8")),
        price.expand(numeric_fields(_canonical_decimal(price.values))),
        customer.expand(number_fields(pc.cast(customer_values, pa.int32()), ">i4"), null=NULL_FIELD),
        country.expand(text_fields(country.values)),
        b"",
    )
    # per distinct date value (a few thousand per block), not per line
    months = pc.unique(pc.utf8_slice_codeunits(date.values, 0, 7)).to_pylist()
    return Typed(
        string_data(copy_rows),
        dates["min"].as_py(),
        dates["max"].as_py(),
        tuple(sorted(f"{month}-01" for month in months)),
    )


def _plausible(
    dates: pa.StructScalar, quantity: pa.Array, price: pa.Array, customer: pa.Array, bounds: LoadBounds
) -> bool:
    """Whether every value of a plain block is inside the load's bounds (checked once per distinct value).
    A price near its bound goes to SQL too, whose numeric comparison is exact where a float is not."""
    if dates["min"].as_py() < bounds.first_date or dates["max"].as_py() >= bounds.after_date:
        return False
    quantities = pc.cast(quantity, pa.int64())
    if len(quantities) and pc.max(pc.abs(quantities)).as_py() > bounds.max_abs_quantity:
        return False
    prices = pc.abs(pc.cast(price, pa.float64()))
    if len(prices) and pc.max(prices).as_py() >= bounds.max_abs_unit_price * (1 - 1e-9):
        return False
    customers = pc.cast(pc.replace_substring_regex(customer.drop_null(), r"\.0+$", ""), pa.int64())
    return not (len(customers) and pc.min(customers).as_py() <= 0)


def _longest(values: pa.Array) -> int:
    if not len(values):
        return 0
    return pc.max(pc.utf8_length(values)).as_py() or 0


def _row_prefixes(block: pa.Table, export_no: int, first_line_id: int) -> pa.Array:
    """Each row's field count and its first three fields (line_id, source_row, export_no)."""
    rows = block.num_rows
    prefix = np.empty(rows, dtype=_ROW_PREFIX)
    prefix["fields"] = len(CANONICAL_COLUMNS) + 3
    prefix["line_id_size"] = prefix["source_row_size"] = 8
    prefix["line_id"] = np.arange(first_line_id, first_line_id + rows, dtype=np.int64)
    prefix["source_row"] = block.column("source_row").to_numpy()
    prefix["export_no_size"] = 2
    prefix["export_no"] = export_no
    return fixed_size(prefix)


def _valid_timestamps(dates: pa.Array) -> bool:
    """Every ``YYYY-MM-DD HH:MI:SS`` (19 characters each, checked before) is a real moment: no 2010-02-30,
    no 24:00, as the SQL checks demand."""
    if not len(dates):
        return True
    digits = np.frombuffer(string_data(dates), dtype=np.uint8).reshape(len(dates), 19).astype(np.int16) - 48

    def number(start: int, stop: int) -> np.ndarray:
        value = np.zeros(len(dates), dtype=np.int16)
        for position in range(start, stop):
            value = value * 10 + digits[:, position]
        return value

    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    if not ((month >= 1) & (month <= 12)).all():
        return False
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last_day = _DAYS[month] + ((month == 2) & leap)
    return bool(
        ((day >= 1) & (day <= last_day)).all()
        and (number(11, 13) < 24).all()
        and (number(14, 16) < 60).all()
        and (number(17, 19) < 60).all()
    )


def _canonical_decimal(price: pa.Array) -> pa.Array:
    """Plain decimals as PostgreSQL prints ``trim_scale(value::numeric)``: '2.10' -> '2.1', '18.0' -> '18',
    '007.5' -> '7.5', '-0.0' -> '0'."""
    if _any(pc.match_substring_regex(price, r"^-?0[0-9]")):
        price = pc.replace_substring_regex(price, r"^(-?)0+([0-9])", r"\1\2")
    if _any(pc.match_substring(price, ".")):
        price = pc.replace_substring_regex(price, r"(\.[0-9]*[1-9])0+$", r"\1")
        price = pc.replace_substring_regex(price, r"\.0+$", "")
    if _any(pc.equal(price, "-0")):
        price = pc.if_else(pc.equal(price, "-0"), "0", price)
    return price
