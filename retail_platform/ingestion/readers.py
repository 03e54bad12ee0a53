"""Streaming readers for every drop format: CSV, CSV.gz, XLSX (every sheet) and Parquet.

Each reader turns a file into one or more *exports* (a file, or one sheet of a workbook: SPEC §3) and each
export into a stream of ``StagedRow`` tuples in canonical column order, values as text exactly as written.
Typing and validation happen later, in PostgreSQL, in one set-based pass. Nothing here holds more than one
block of rows in memory, whatever the file size.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from retail_platform.ingestion.columns import CANONICAL_COLUMNS, HeaderError, map_header

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".xlsx", ".parquet")
_BLOCK = 1 << 20


class FileRejected(Exception):
    """The whole file cannot be read as transactions; ``lines`` data lines were seen in it."""

    def __init__(self, message: str, lines: int = 0) -> None:
        super().__init__(message)
        self.lines = lines


# (export number, source row, structural error, raw text, *eight canonical values)
StagedRow = tuple


@dataclass
class Export:
    """One export inside a file: its name (the sheet for workbooks) and its rows."""

    name: str
    rows: Iterator[StagedRow]


def file_format(path: Path) -> str:
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
        yield from _csv_exports(path, compressed=fmt == "csv.gz")
    elif fmt == "xlsx":
        yield from _xlsx_exports(path)
    else:
        yield from _parquet_exports(path)


# --- CSV -------------------------------------------------------------------------------------------------


def _open_binary(path: Path, compressed: bool) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def detect_encoding(path: Path, compressed: bool = False) -> str:
    """``utf-8-sig`` when the whole file is valid UTF-8 (a BOM is then skipped), else ``latin-1``.

    The whole file is checked, not a sample: a single accented name deep in a Latin-1 export would otherwise
    abort the load half-way.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_binary(path, compressed) as stream:
            while block := stream.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    except (OSError, EOFError) as error:
        raise FileRejected(f"cannot read file: {error}") from error
    return "utf-8-sig"


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    return max(counts, key=counts.__getitem__) if any(counts.values()) else ","


def _csv_exports(path: Path, compressed: bool) -> Iterator[Export]:
    encoding = detect_encoding(path, compressed)
    stream = io.TextIOWrapper(_open_binary(path, compressed), encoding=encoding, newline="")
    first_line = stream.readline()
    stream.seek(0)
    if not first_line.strip():
        stream.close()
        raise FileRejected("empty file: the first line (the header) is blank")
    reader = csv.reader(stream, delimiter=_delimiter(first_line), strict=False)
    header = next(reader)
    try:
        positions = map_header(header)
    except HeaderError as error:
        lines = sum(1 for row in reader if row)
        stream.close()
        raise FileRejected(str(error), lines=lines) from error
    yield Export(path.name, _csv_rows(stream, reader, positions, len(header)))


def _csv_rows(stream: io.TextIOWrapper, reader, positions: list[int], width: int) -> Iterator[StagedRow]:
    p0, p1, p2, p3, p4, p5, p6, p7 = positions
    try:
        for row in reader:
            if len(row) == width and "\x00" not in "".join(row):
                yield (
                    0,
                    reader.line_num,
                    None,
                    None,
                    row[p0],
                    row[p1],
                    row[p2],
                    row[p3],
                    row[p4],
                    row[p5],
                    row[p6],
                    row[p7],
                )
            elif len(row) == width:  # PostgreSQL text cannot hold NUL: reject the line, not the whole load
                yield (
                    0,
                    reader.line_num,
                    "line contains NUL bytes (binary data?)",
                    _csv_line(row),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            elif row:  # blank lines carry no data and are skipped
                yield (
                    0,
                    reader.line_num,
                    f"line has {len(row)} fields, the header has {width}",
                    _csv_line(row),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
    except csv.Error as error:
        raise FileRejected(f"malformed CSV near line {reader.line_num}: {error}") from error
    finally:
        stream.close()


def _csv_line(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    return buffer.getvalue().replace("\x00", "\\x00")


# --- XLSX ------------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _xlsx_exports(path: Path) -> Iterator[Export]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileRejected(f"not a readable XLSX workbook: {error}") from error
    try:
        sheets = list(workbook.worksheets)
        for export_no, sheet in enumerate(sheets):
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None or all(value is None for value in header):
                continue  # an empty sheet is not an export
            try:
                positions = map_header(list(header))
            except HeaderError as error:
                lines = sum(1 for row in rows if any(value is not None for value in row))
                raise FileRejected(f"sheet {sheet.title!r}: {error}", lines=lines) from error
            yield Export(sheet.title, _xlsx_rows(export_no, rows, positions))
    finally:
        workbook.close()


def _xlsx_rows(export_no: int, rows, positions: list[int]) -> Iterator[StagedRow]:
    for row_number, row in enumerate(rows, start=2):
        if all(value is None for value in row):
            continue
        values = [_cell_text(row[p]) if p < len(row) else None for p in positions]
        yield (export_no, row_number, None, None, *values)


# --- Parquet ---------------------------------------------------------------------------------------------


def _parquet_exports(path: Path) -> Iterator[Export]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise FileRejected(f"not a readable Parquet file: {error}") from error
    names = parquet.schema_arrow.names
    try:
        positions = map_header(list(names))
    except HeaderError as error:
        raise FileRejected(str(error), lines=parquet.metadata.num_rows) from error
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
        except pa.ArrowException as error:  # corrupt pages, or a column type that has no text form
            raise FileRejected(f"not a readable Parquet file: {error}", lines=row_number - 1) from error

    yield Export(path.name, rows())


assert len(CANONICAL_COLUMNS) == 8  # the StagedRow layout above depends on it
