"""CSV and CSV.gz exports: the file parsed by Arrow's C++ CSV reader in blocks, the ``csv`` module from the
first block that is not plain (blank lines, line breaks inside quotes, NUL bytes, a wrong number of fields),
so both paths give exactly the same lines, values and row numbers. A field longer than ``MAX_FIELD_CHARS``
rejects its line on both paths (the typing checks, not the parsers, decide); the ``csv`` module's own limit
is raised far above it, so that it never rejects a whole file the Arrow path would load.

A file rejected as a whole (a header without the columns, a truncated gzip) keeps its lines: ``file_lines``
streams them as text for raw.rejected_lines.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from retail_platform.ingestion.columns import HeaderError, map_header
from retail_platform.ingestion.exports import (
    NO_VALUES,
    TEXT_BATCH_SCHEMA,
    Export,
    FileRejected,
    KeptLine,
    StagedRow,
    rows_to_batches,
)

# The csv module's limit on one field (process-wide), far above MAX_FIELD_CHARS: a longer field is beyond
# any export and costs its record (the rest of its physical line) a "malformed CSV" rejection.
CSV_HARD_FIELD_LIMIT = 32 << 20
csv.field_size_limit(max(csv.field_size_limit(), CSV_HARD_FIELD_LIMIT))
# A kept line of a rejected file is cut after this many characters (a binary file may have no line breaks).
KEPT_LINE_CHARS = 1 << 20
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

_BLOCK = 1 << 20
# Bytes of CSV parsed at a time on the fast path (about 90,000 lines of the UCI export).
CSV_BLOCK_BYTES = 8 << 20
# The first block is smaller, so that the warehouse starts writing lines after a fraction of a second.
FIRST_CSV_BLOCK_BYTES = 1 << 20


def _open_binary(path: Path, compressed: bool) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def detect_encoding(path: Path, compressed: bool = False) -> str:
    """``utf-8-sig`` when the whole file is valid UTF-8 (a BOM is then skipped), else ``latin-1``; UTF-16 (by
    its byte order mark) is rejected with its lines kept.

    The whole file is checked, not a sample: a single accented name deep in a Latin-1 export would otherwise
    abort the load half-way. ASCII blocks, most of a file, are skipped without decoding.
    """
    with _open_binary(path, compressed) as stream:
        try:
            start = stream.read(2)
        except (OSError, EOFError, zlib.error):
            start = b""
    if start in _UTF16_BOMS:  # Excel's "Unicode text": kept, decoded, but not parsed as a table
        raise FileRejected(
            f"{path.name} is UTF-16 text (byte order mark {start.hex(' ')}): export it as UTF-8 or Latin-1 CSV",
            keep=lambda: file_lines(path, compressed, "utf-16"),
        )
    try:
        if not compressed:
            return "utf-8-sig" if _is_utf8(path) else "latin-1"
        decoder = codecs.getincrementaldecoder("utf-8")()
        with _open_binary(path, compressed) as stream:
            while block := stream.read(_BLOCK):
                if not (block.isascii() and not decoder.buffer):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, EOFError):  # the compressed stream stops where the file does: cut short
            why = f"truncated gzip at byte {path.stat().st_size:,} (the end of the file): {error}"
        else:
            why = f"cannot read file: {error}"
        raise FileRejected(why, keep=lambda: file_lines(path, compressed, "utf-8")) from error
    return "utf-8-sig"


# Bytes of a plain file validated as UTF-8 at a time: the process's memory stays bounded.
_UTF8_WINDOW = 16 << 20


def _is_utf8(path: Path) -> bool:
    """Whether the whole (uncompressed) file is valid UTF-8, checked a window at a time by Arrow's vectorized
    validation (about 60 ms for 1,067,371 lines, against 90-130 ms through Python's decoder: the load's first
    COPY waits for this). The same rules as Python's strict decoder: no overlong forms, no surrogates, nothing
    beyond U+10FFFF. Read, not memory-mapped: a writer truncating the file under a map would kill the process
    (SIGBUS) instead of leaving it for a later run."""
    carry = b""
    with open(path, "rb") as stream:
        while block := stream.read(_UTF8_WINDOW):
            window = carry + block
            cut = _last_character_start(window)
            if not _valid_utf8(window[:cut]):
                return False
            carry = window[cut:]
    return _valid_utf8(carry)


def _last_character_start(window: bytes) -> int:
    """Where the window's last character starts (its length when the window ends on ASCII): the bytes from
    there may continue in the next read."""
    cut = len(window)
    while cut > 0 and window[cut - 1] & 0xC0 == 0x80 and len(window) - cut < 3:
        cut -= 1
    return cut - 1 if cut > 0 and window[cut - 1] >= 0xC0 else cut


def _valid_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    offsets = pa.py_buffer(np.array([0, len(data)], np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(
            pa.large_string()
        )
    except pa.ArrowInvalid:
        return False
    return True


def file_lines(
    path: Path, compressed: bool, encoding: str, skip: int = 1, column: str | None = None
) -> Iterator[KeptLine]:
    """The file's lines after the first ``skip`` (the header) as text, numbered as in the file, blank ones
    left out, NUL shown as ``\\x00``, each cut after ``KEPT_LINE_CHARS``; a compressed stream cut short ends
    the lines where it breaks. For raw.rejected_lines, when the file cannot be read as a table."""
    number = 0
    try:
        with io.TextIOWrapper(_open_binary(path, compressed), encoding=encoding, errors="replace") as stream:
            while line := stream.readline(KEPT_LINE_CHARS):
                number += 1
                if not line.endswith("\n"):  # cut: skip to the end of the line
                    while (more := stream.readline(KEPT_LINE_CHARS)) and not more.endswith("\n"):
                        pass
                text = line.rstrip("\r\n").lstrip("\ufeff")
                if number <= skip or not text.strip():
                    continue
                yield path.name, number, text.replace("\x00", "\\x00"), column
    except (OSError, EOFError, zlib.error):
        return  # the lines before the damage are all there is


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    return max(counts, key=counts.__getitem__) if any(counts.values()) else ","


def csv_exports(path: Path, compressed: bool) -> Iterator[Export]:
    """The one export of a CSV file."""
    encoding = detect_encoding(path, compressed)
    with io.TextIOWrapper(_open_binary(path, compressed), encoding=encoding, newline="") as stream:
        first_line = stream.readline()
        if not first_line.strip():
            raise FileRejected(
                "empty file: the first line (the header) is blank",
                keep=lambda: file_lines(path, compressed, encoding),
            )
        stream.seek(0)
        delimiter = _delimiter(first_line)
        reader = csv.reader(stream, delimiter=delimiter, strict=False)
        header = next(reader)
        header_lines = reader.line_num
        try:
            positions = map_header(header)
        except HeaderError as error:
            column = error.column
            raise FileRejected(
                f"{path.name}: {error}",
                keep=lambda: file_lines(path, compressed, encoding, header_lines, column),
            ) from error

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
        for row in _records(reader, line_offset):
            if isinstance(row, tuple):  # a record the csv module could not read
                yield row
            elif len(row) == width and "\x00" not in "".join(row):
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
                yield _not_a_row(line_offset + reader.line_num, "line contains NUL bytes (binary data?)", row)
            elif row:  # blank lines carry no data and are skipped
                yield _not_a_row(
                    line_offset + reader.line_num, f"line has {len(row)} fields, the header has {width}", row
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
) -> Iterator[pa.Table]:
    """The CSV's lines as text batches, a block of the file at a time, parsed by Arrow.

    A block is used as Arrow parsed it only when it is plain: one line per row (no blank lines, no line
    breaks inside quotes: the row count equals the line count), the header's number of fields, no NUL byte.
    From the first block that is not, the ``csv`` module reads the rest of the file, numbering lines on.
    """
    block_bytes = CSV_BLOCK_BYTES
    latin1 = encoding.replace("_", "-").lower() in ("latin-1", "latin1", "iso-8859-1")
    parse = _arrow_parser(delimiter, positions, width, latin1, block_bytes)
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
            values = parse(block, lines)
            if values is None:
                # Not plain: the csv module takes over at this block's first byte, numbering lines on.
                rest = io.BufferedReader(_Resumed(data, stream), 1 << 20)
                text = io.TextIOWrapper(rest, encoding="latin-1" if latin1 else "utf-8", newline="")
                reader = csv.reader(text, delimiter=delimiter, strict=False)
                yield from rows_to_batches(_csv_rows(text, reader, positions, width, line_offset=line))
                return
            nulls = pa.nulls(lines, pa.string())
            yield pa.Table.from_arrays(
                [pa.array(np.arange(line + 1, line + 1 + lines, dtype=np.int64)), nulls, nulls, *values],
                schema=TEXT_BATCH_SCHEMA,
            )
            line += lines
    finally:
        stream.close()


def _arrow_parser(
    delimiter: str, positions: list[int], width: int, latin1: bool, block_bytes: int
) -> Callable[[bytes, int], list[pa.ChunkedArray] | None]:
    """A parser of plain blocks: the canonical columns of a block of ``lines`` lines, as Arrow parsed them, or
    None when the block is not plain (a NUL byte, a parse error, a row count other than the line count)."""
    names = [f"f{index}" for index in range(width)]
    read_options = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=block_bytes * 2)
    parse_options = pacsv.ParseOptions(delimiter=delimiter)
    convert_options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        include_columns=[names[p] for p in positions],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )

    def parse(block: bytes, lines: int) -> list[pa.ChunkedArray] | None:
        if b"\x00" in block:
            return None
        try:
            table = pacsv.read_csv(
                pa.py_buffer(block.decode("latin-1").encode() if latin1 else block),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid:
            return None
        return [table.column(names[p]) for p in positions] if table.num_rows == lines else None

    return parse


def _records(reader, line_offset: int) -> Iterator[list[str] | StagedRow]:
    """The csv reader's records; a record it cannot read (a field beyond ``CSV_HARD_FIELD_LIMIT``) becomes
    a rejected line, and reading goes on with the next physical line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = line_offset + reader.line_num
            yield (
                0,
                line,
                f"malformed CSV: {error} (the line's text is not kept)",
                f"(line {line})",
                *NO_VALUES,
            )


def _not_a_row(line: int, error: str, row: list[str]) -> StagedRow:
    """A line that is not a row of the table: its structural error and raw text, no values."""
    return (0, line, error, _csv_line(row), *NO_VALUES)


def _csv_line(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    return buffer.getvalue().replace("\x00", "\\x00")
