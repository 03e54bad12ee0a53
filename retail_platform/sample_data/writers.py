"""Sample files in the formats the pipeline reads: CSV (plain or gzip), Parquet and XLSX.

Why byte-stable: the tests and benchmarks compare outputs of equal arguments, so nothing here may depend on
the clock (the gzip timestamp is zeroed; XLSX keeps its zip timestamps, so compare its cells).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

EXCEL_MAX_ROWS = 1_048_575
FORMATS = (".csv.gz", ".csv", ".parquet", ".xlsx")


def output_format(path: Path) -> str:
    """The format a file name asks for, as its suffix (``.csv.gz`` before ``.csv``)."""
    name = path.name.lower()
    for suffix in FORMATS:
        if name.endswith(suffix):
            return suffix
    raise ValueError(f"unsupported sample format for {path.name!r}: use .csv, .csv.gz, .parquet or .xlsx")


def write_csv(
    target: Path, chunks: Iterator[pd.DataFrame], names: list[str], *, compressed: bool, encoding: str
) -> int:
    """Header ``names`` then the chunks as the real export prints them; gzip without a timestamp."""
    written = 0
    with open(target, "wb") as raw:
        binary = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
            if compressed
            else raw
        )
        with io.TextIOWrapper(binary, encoding=encoding, newline="") as text:
            text.write(",".join(names) + "\n")
            for frame in chunks:
                frame.to_csv(text, header=False, index=False, lineterminator="\n")
                written += len(frame)
    return written


def write_parquet(
    target: Path, chunks: Iterator[pd.DataFrame], names: list[str], float_customer_ids: bool
) -> int:
    """One row group per chunk, typed as the canonical columns (customer ids as float64 if asked)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = [
        pa.string(),  # invoice_no
        pa.string(),  # stock_code
        pa.string(),  # description
        pa.int64(),  # quantity
        pa.timestamp("us"),  # invoice_date
        pa.float64(),  # unit_price
        pa.float64() if float_customer_ids else pa.int64(),  # customer_id
        pa.string(),  # country
    ]
    schema = pa.schema([pa.field(name, kind) for name, kind in zip(names, types, strict=True)])
    written = 0
    with pq.ParquetWriter(target, schema) as writer:
        for frame in chunks:
            table = pa.Table.from_pandas(
                frame.set_axis(names, axis="columns"), schema=schema, preserve_index=False
            )
            writer.write_table(table)
            written += len(frame)
    return written


def write_xlsx(target: Path, chunks: Iterator[pd.DataFrame], names: list[str], sheet: str) -> int:
    """One sheet named like the real workbook's, typed cells, empty cells for missing values (openpyxl)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(names)
    written = 0
    for frame in chunks:
        columns = [
            frame["invoice_no"].tolist(),
            frame["stock_code"].tolist(),
            _with_none(frame["description"]),
            frame["quantity"].tolist(),
            frame["invoice_date"].dt.to_pydatetime().tolist(),
            frame["unit_price"].tolist(),
            _with_none(frame["customer_id"].astype("object")),
            frame["country"].tolist(),
        ]
        for row in zip(*columns, strict=True):
            worksheet.append(row)
        written += len(frame)
    workbook.save(target)
    return written


def _with_none(column: pd.Series) -> list[object]:
    """Missing values as ``None``, which openpyxl writes as an empty cell."""
    return [None if pd.isna(value) else value for value in column.tolist()]
