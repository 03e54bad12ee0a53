"""Streaming readers for every drop format: CSV, CSV.gz, XLSX (every sheet) and Parquet.

Each reader turns a file into one or more *exports* (a file, or one sheet of a workbook: SPEC §3). An export
offers its lines two ways, values as text exactly as written, in canonical column order:

- ``rows``: ``StagedRow`` tuples, one line at a time (every format; what other sources such as the shop's
  database extract hand to the loader);
- ``text_batches()``: Arrow tables of ``TEXT_BATCH_SCHEMA``, a block of lines at a time. For CSV this is the
  fast path: blocks of the file are parsed by Arrow's C++ CSV reader, and the Python ``csv`` module takes
  over from the first block that is not plain (blank lines, line breaks inside quotes, NUL bytes, a wrong
  number of fields), so both paths give exactly the same lines, values and row numbers.

Typing and validation happen later, in the loader. Nothing here holds more than a few blocks of lines in
memory, whatever the file size.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from retail_platform.ingestion.columns import CANONICAL_COLUMNS, HeaderError, map_header

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".xlsx", ".parquet")
_BLOCK = 1 << 20
# Bytes of CSV parsed at a time on the fast path (about 90,000 lines of the UCI export), and lines per batch
# when rows are batched: big enough that per-batch costs vanish, small enough that memory stays flat.
CSV_BLOCK_BYTES = 8 << 20
# The first block is smaller, so that the warehouse starts writing lines after a fraction of a second.
FIRST_CSV_BLOCK_BYTES = 1 << 20
BATCH_ROWS = 65_536

# One block of an export's lines, as text: the row number, a structural error (the line is not a row of
# the table at all) with the line's raw text, and the eight canonical values.
TEXT_BATCH_SCHEMA = pa.schema(
    [
        pa.field("source_row", pa.int64()),
        pa.field("structural_error", pa.string()),
        pa.field("raw_text", pa.string()),
        *(pa.field(column, pa.string()) for column in CANONICAL_COLUMNS),
    ]
)


class FileRejected(Exception):
    """The whole file cannot be read as transactions; ``lines`` data lines were seen in it."""

    def __init__(self, message: str, lines: int = 0) -> None:
        super().__init__(message)
        self.lines = lines


# (export number, source row, structural error, raw text, *eight canonical values)
StagedRow = tuple


@dataclass
class Export:
    """One export inside a file: its name (the sheet for workbooks) and its rows.

    ``batches``, when a reader has a faster way to produce the same lines than ``rows`` (a CSV file parsed by
    blocks), returns them as text batches; either ``rows`` or ``text_batches()`` is consumed, never both.
    """

    name: str
    rows: Iterator[StagedRow]
    batches: Callable[[], Iterator[pa.Table]] | None = None

    def text_batches(self, batch_rows: int | None = None) -> Iterator[pa.Table]:
        """The export's lines as tables of ``TEXT_BATCH_SCHEMA``."""
        if self.batches is not None:
            return self.batches()
        return rows_to_batches(self.rows, batch_rows)


def _text(value: object) -> str | None:
    """A value as text, as psycopg's COPY would have sent it (sources may hand over ints or dates)."""
    return None if value is None or isinstance(value, str) else str(value)


def _text_column(values: tuple) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([value if isinstance(value, str) else _text(value) for value in values], pa.string())


def rows_table(rows: list[StagedRow]) -> pa.Table:
    """``StagedRow`` tuples as one text batch (the export number is the loader's business)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * (4 + len(CANONICAL_COLUMNS))
    arrays = [
        pa.array(columns[1], pa.int64()),
        _text_column(columns[2]),
        _text_column(columns[3]),
        *(_text_column(column) for column in columns[4:]),
    ]
    return pa.Table.from_arrays(arrays, schema=TEXT_BATCH_SCHEMA)


def rows_to_batches(rows: Iterable[StagedRow], batch_rows: int | None = None) -> Iterator[pa.Table]:
    batch_rows = batch_rows or BATCH_ROWS
    buffer: list[StagedRow] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= batch_rows:
            yield rows_table(buffer)
            buffer = []
    if buffer:
        yield rows_table(buffer)


def file_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return suffix.lstrip(".")
    raise FileRejected(
        f"unsupported file type {path.suffix or '(none)'!r}: drops must be one of {', '.join(SUPPORTED_SUFFIXES)}"
    )


def read_exports(path: Path, *, encoding: str | None = None) -> Iterator[Export]:
    """The exports of ``path``; a FileRejected says why a file is not a table of transactions.

    ``encoding`` skips the detection pass of a CSV file when the caller already knows it.
    """
    fmt = file_format(path)
    if path.stat().st_size == 0:
        raise FileRejected("empty file: no header and no lines")
    if fmt in ("csv", "csv.gz"):
        yield from _csv_exports(path, compressed=fmt == "csv.gz", encoding=encoding)
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
    abort the load half-way. ASCII blocks, most of a file, are skipped without decoding.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with _open_binary(path, compressed) as stream:
            while block := stream.read(_BLOCK):
                if not (block.isascii() and not decoder.buffer):
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


def _csv_exports(path: Path, compressed: bool, encoding: str | None = None) -> Iterator[Export]:
    encoding = encoding or detect_encoding(path, compressed)
    with io.TextIOWrapper(_open_binary(path, compressed), encoding=encoding, newline="") as stream:
        first_line = stream.readline()
        if not first_line.strip():
            raise FileRejected("empty file: the first line (the header) is blank")
        stream.seek(0)
        delimiter = _delimiter(first_line)
        reader = csv.reader(stream, delimiter=delimiter, strict=False)
        header = next(reader)
        try:
            positions = map_header(header)
        except HeaderError as error:
            raise FileRejected(str(error), lines=sum(1 for row in reader if row)) from error
        header_lines = reader.line_num

    def rows() -> Iterator[StagedRow]:
        stream = io.TextIOWrapper(_open_binary(path, compressed), encoding=encoding, newline="")
        reader = csv.reader(stream, delimiter=delimiter, strict=False)
        next(reader)
        yield from _csv_rows(stream, reader, positions, len(header))

    def batches() -> Iterator[pa.Table]:
        return _csv_batches(path, compressed, encoding, delimiter, positions, len(header), header_lines)

    yield Export(path.name, rows(), batches)


def _csv_rows(
    stream: io.TextIOBase, reader, positions: list[int], width: int, line_offset: int = 0
) -> Iterator[StagedRow]:
    p0, p1, p2, p3, p4, p5, p6, p7 = positions
    try:
        for row in reader:
            if len(row) == width and "\x00" not in "".join(row):
                yield (
                    0,
                    line_offset + reader.line_num,
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
                    line_offset + reader.line_num,
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
                    line_offset + reader.line_num,
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
        raise FileRejected(f"malformed CSV near line {line_offset + reader.line_num}: {error}") from error
    finally:
        stream.close()


class _Resumed(io.RawIOBase):
    """A binary stream that replays ``prefix`` and then continues with ``rest``."""

    def __init__(self, prefix: bytes, rest: io.BufferedIOBase) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._rest.close()
        super().close()


def _csv_batches(
    path: Path,
    compressed: bool,
    encoding: str,
    delimiter: str,
    positions: list[int],
    width: int,
    header_lines: int,
    block_bytes: int | None = None,
) -> Iterator[pa.Table]:
    """The CSV's lines as text batches, a block of the file at a time, parsed by Arrow.

    A block is used as Arrow parsed it only when it is plain: one line per row (no blank lines, no line
    breaks inside quotes: the row count equals the line count), the header's number of fields, no NUL byte.
    From the first block that is not, the ``csv`` module reads the rest of the file, numbering lines on.
    """
    import pyarrow.csv as pacsv

    block_bytes = block_bytes or CSV_BLOCK_BYTES
    names = [f"f{index}" for index in range(width)]
    read_options = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=block_bytes * 2)
    parse_options = pacsv.ParseOptions(delimiter=delimiter)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        include_columns=[names[p] for p in positions],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    latin1 = encoding.replace("_", "-").lower() in ("latin-1", "latin1", "iso-8859-1")
    stream = _open_binary(path, compressed)
    try:
        header = b"".join(stream.readline() for _ in range(header_lines))
        if header.count(b"\r") != header.count(b"\r\n"):  # lines end in a bare CR: not for Arrow
            stream.close()
            stream = io.TextIOWrapper(_open_binary(path, compressed), encoding=encoding, newline="")
            reader = csv.reader(stream, delimiter=delimiter, strict=False)
            next(reader)
            yield from rows_to_batches(_csv_rows(stream, reader, positions, width))
            return
        line = header_lines  # lines of the file consumed so far
        pending = b""
        next_bytes = min(block_bytes, FIRST_CSV_BLOCK_BYTES)
        while True:
            chunk = stream.read(next_bytes)
            next_bytes = block_bytes
            data = pending + chunk if pending else chunk
            if not data:
                return
            if chunk:
                cut = data.rfind(b"\n")
                if cut < 0:  # one line longer than a block: read on
                    pending = data
                    continue
                block, pending = data[: cut + 1], data[cut + 1 :]
            else:  # the last line has no line break
                block, pending = data + b"\n", b""
            lines = block.count(b"\n")
            table = None
            if b"\x00" not in block:
                try:
                    table = pacsv.read_csv(
                        pa.py_buffer(block.decode("latin-1").encode() if latin1 else block),
                        read_options=read_options,
                        parse_options=parse_options,
                        convert_options=convert_options,
                    )
                except pa.ArrowInvalid:
                    table = None
            if table is None or table.num_rows != lines:
                # Not plain: the csv module takes over at this block's first byte, numbering lines on.
                rest = io.BufferedReader(_Resumed(data, stream), 1 << 20)
                text = io.TextIOWrapper(rest, encoding="latin-1" if latin1 else "utf-8", newline="")
                reader = csv.reader(text, delimiter=delimiter, strict=False)
                yield from rows_to_batches(_csv_rows(text, reader, positions, width, line_offset=line))
                return
            rows = table.num_rows
            values = [table.column(names[p]) for p in positions]
            nulls = pa.nulls(rows, pa.string())
            yield pa.Table.from_arrays(
                [pa.array(np.arange(line + 1, line + 1 + rows, dtype=np.int64)), nulls, nulls, *values],
                schema=TEXT_BATCH_SCHEMA,
            )
            line += lines
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
