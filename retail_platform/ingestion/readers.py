"""Streaming readers for every drop format: CSV, CSV.gz, XLSX (every sheet) and Parquet.

Each reader turns a file into one or more exports (``exports.Export``: a file, or one sheet of a workbook,
SPEC §3) whose lines are text exactly as written, in canonical column order: CSV in ``csv_files`` (blocks
parsed by Arrow), XLSX in ``workbooks`` (python-calamine), Parquet here. Typing and validation happen later,
in the loader. Nothing holds more than a few blocks of lines in memory (a workbook: one sheet), whatever the
file size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_platform.ingestion.columns import CANONICAL_COLUMNS, HeaderError, map_header
from retail_platform.ingestion.csv_files import csv_exports, detect_encoding
from retail_platform.ingestion.exports import (
    TEXT_BATCH_SCHEMA,
    Export,
    FileRejected,
    KeptLine,
    StagedRow,
    rows_table,
    rows_to_batches,
)
from retail_platform.ingestion.workbooks import xlsx_exports

__all__ = [
    "SUPPORTED_SUFFIXES",
    "TEXT_BATCH_SCHEMA",
    "Export",
    "FileRejected",
    "StagedRow",
    "detect_encoding",
    "file_format",
    "read_exports",
    "rows_table",
    "rows_to_batches",
]

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".xlsx", ".parquet")


def file_format(path: Path) -> str:
    """The format of a drop, from its name: ``csv``, ``csv.gz``, ``xlsx`` or ``parquet``."""
    name = path.name.lower()
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return suffix.lstrip(".")
    raise FileRejected(
        f"unsupported file type {path.suffix or '(none)'!r}: drops must be one of {', '.join(SUPPORTED_SUFFIXES)}"
    )


def read_exports(path: Path) -> Iterator[Export]:
    """The exports of ``path``; a FileRejected says why a file is not a table of transactions."""
    fmt = file_format(path)
    if path.stat().st_size == 0:
        raise FileRejected("empty file: no header and no lines")
    if fmt in ("csv", "csv.gz"):
        yield from csv_exports(path, compressed=fmt == "csv.gz")
    elif fmt == "xlsx":
        yield from xlsx_exports(path)
    else:
        yield from _parquet_exports(path)


# --- Parquet ---------------------------------------------------------------------------------------------


def _parquet_exports(path: Path) -> Iterator[Export]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise FileRejected(f"not a readable Parquet file: {error}") from error
    names = parquet.schema_arrow.names
    try:
        positions = map_header(list(names))
    except HeaderError as error:
        column = error.column
        raise FileRejected(
            f"{path.name}: {error}", keep=lambda: _parquet_lines(path, None, column)
        ) from error
    wanted = [names[p] for p in positions]

    def rows() -> Iterator[StagedRow]:
        row_number = 1  # as if a header line preceded the first record, like the CSV export of the same data
        try:
            for batch in parquet.iter_batches(batch_size=65_536, columns=wanted):
                columns = []
                for column in batch.columns:
                    if pa.types.is_timestamp(column.type):
                        # pandas writes nanoseconds; the warehouse keeps microseconds (and %S prints the
                        # fraction in the column's unit, which would be 9 digits for ns)
                        if column.type.unit == "ns":
                            column = pc.cast(column, pa.timestamp("us", column.type.tz), safe=False)
                        column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
                    columns.append(pc.cast(column, pa.string()).to_pylist())
                for values in zip(*columns, strict=True):
                    row_number += 1
                    yield (0, row_number, None, None, *values)
        except pa.ArrowException as error:  # corrupt pages, or a column type that has no text form (nested)
            raise FileRejected(
                f"not a readable Parquet file: {error}",
                lines=row_number - 1,
                keep=lambda: _parquet_lines(path, wanted, None),
            ) from error

    yield Export(path.name, rows())


def _parquet_lines(path: Path, columns: list[str] | None, column: str | None) -> Iterator[KeptLine]:
    """A rejected Parquet file's records as CSV-like text (nested values as Python prints them), numbered as
    its lines would be; the records before a damaged page, when one is."""
    number = 1
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=8_192, columns=columns):
            for record in batch.to_pylist():
                number += 1
                yield path.name, number, _csv_text(list(record.values())), column
    except (pa.ArrowException, OSError):
        return


def _csv_text(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(["" if v is None else str(v) for v in values])
    return buffer.getvalue().replace("\x00", "\\x00")


assert len(CANONICAL_COLUMNS) == 8  # the StagedRow layout depends on it
