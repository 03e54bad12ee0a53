"""XLSX workbooks through python-calamine: every worksheet whose first row is a header is an export (SPEC §3).

calamine (Rust) parses a whole sheet at once (with the GIL released: the digest thread runs beside it), and
the next sheet only once the loader has taken in the current one, so memory is bounded by the largest sheet
(about 170 MB for a sheet of the UCI workbook), not the workbook. The cells of a block of rows become text a
column at a time, once per distinct value.

Cells read as the openpyxl reader this replaced read them, so that row numbers, values and rejection reasons
stay the same: a row's number is its row in the sheet (the header is row 1; blank rows are skipped but
counted); whole numbers print without a fraction (``536365``, ``13085``), other numbers as Python prints
floats (``2.55``, ``1e-05``); date-times as ``2010-12-01 08:26:00``, a date alone at midnight; empty cells
are missing values. Where calamine cannot tell what openpyxl could, the value differs: a cell holding an
error (``#N/A``) or only spaces reads as empty, and a whole number that a writer stored as ``12.0`` (Excel,
openpyxl and XlsxWriter store ``12``) reads as ``12``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from retail_platform.ingestion import exports
from retail_platform.ingestion.columns import CANONICAL_COLUMNS, HeaderError, map_header, named_columns
from retail_platform.ingestion.exports import TEXT_BATCH_SCHEMA, Export, FileRejected, KeptLine, StagedRow

_WHOLE_LIMIT = 1e16  # from here on Python prints floats with an exponent, as openpyxl's reader did
_NULL = pa.scalar(None, pa.string())


def cell_text(value: object) -> str | None:
    """A cell as text; None for an empty cell."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < _WHOLE_LIMIT else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):  # calamine's value of a date-time at midnight
        return dt.datetime.combine(value, dt.time()).isoformat(sep=" ")
    return str(value)  # int, bool, time, timedelta


def _header_value(value: object) -> object:
    if value == "":
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _Rows:
    """The rows of one sheet below its header, handed to whichever of ``rows`` and ``text_batches()`` runs
    first and then let go, so that the sheet is freed as soon as its lines are read."""

    def __init__(self, rows: Iterator[list], columns: list[int], width: int) -> None:
        self._rows: Iterator[list] | None = rows
        self.columns = columns  # the canonical columns' positions within a row
        self.width = width

    def _take(self) -> Iterator[list]:
        rows, self._rows = self._rows, None
        if rows is None:
            raise RuntimeError("the rows of a sheet are read once")
        return rows

    def one_by_one(self) -> Iterator[tuple[int, list]]:
        """(row number, cells) of every row that is not blank."""
        width = self.width
        for number, row in enumerate(self._take(), start=2):
            if row.count("") != width:
                yield number, row

    def blocks(self) -> Iterator[tuple[np.ndarray, list[list]]]:
        """The same rows, ``BATCH_ROWS`` rows of the sheet at a time (without their blank rows), with their
        numbers; the work per row is done by C loops, not Python's."""
        rows = self._take()
        first = 2
        while block := list(islice(rows, exports.BATCH_ROWS)):
            numbers = np.arange(first, first + len(block), dtype=np.int64)
            first += len(block)
            empty = np.fromiter(map(list.count, block, repeat("")), dtype=np.int64, count=len(block))
            if (empty == self.width).any():
                kept = np.flatnonzero(empty != self.width)
                numbers, block = numbers[kept], [block[index] for index in kept]
            if block:
                yield numbers, block


def xlsx_exports(path: Path) -> Iterator[Export]:
    """The exports of a workbook in sheet order, each sheet parsed when its turn comes; sheets that are empty
    or whose first row is blank are skipped, one whose first row names fewer than half of the columns (a
    "Notes" sheet) is skipped with a note for the ledger (``Export.skipped``)."""
    try:
        workbook = CalamineWorkbook.from_path(path)
    except (CalamineError, OSError, ValueError) as error:
        raise FileRejected(f"not a readable XLSX workbook: {error}") from error
    try:
        for index, sheet in enumerate(workbook.sheets_metadata):
            if sheet.typ != SheetTypeEnum.WorkSheet:
                continue  # a chart or macro sheet holds no table
            export = _sheet_export(workbook, index, sheet.name, path)
            if export is not None:  # the sheet is held by its export only, and let go once read
                yield export
    finally:
        workbook.close()


def _sheet_export(workbook: CalamineWorkbook, index: int, name: str, path: Path) -> Export | None:
    try:
        sheet = workbook.get_sheet_by_index(index)
    except CalamineError as error:
        raise FileRejected(f"cannot read sheet {name!r} ({type(error).__name__}): {error}") from error
    if sheet.start is None:
        return None  # an empty sheet is not an export, and not worth a note
    rows = sheet.iter_rows()
    first_column = sheet.start[1]  # calamine's rows start at the first column that holds a value
    header = [None] * first_column + [_header_value(value) for value in next(rows)]
    if all(value is None for value in header):
        return None
    try:
        positions = map_header(header)
    except HeaderError as error:
        if named_columns(header) < len(CANONICAL_COLUMNS) // 2:
            shown = ", ".join(repr(str(value)) for value in header[:6] if value is not None)
            return _skipped(name, f"its first row names {named_columns(header)} of the 8 columns ([{shown}])")
        column = error.column
        raise FileRejected(
            f"{path.name}, sheet {name!r}: {error}", keep=lambda: _sheet_lines(path, index, name, column)
        ) from error
    source = _Rows(rows, [position - first_column for position in positions], sheet.width)
    return Export(name, _staged_rows(source), lambda: _text_batches(source))


def _sheet_lines(path: Path, index: int, name: str, column: str | None) -> Iterator[KeptLine]:
    """The rows of a rejected sheet below its header, as CSV text, numbered as in the sheet (blank ones left
    out), for raw.rejected_lines."""
    workbook = CalamineWorkbook.from_path(path)
    try:
        sheet = workbook.get_sheet_by_index(index)
        cells = sheet.iter_rows()
        next(cells, None)  # the header
        for number, row in _Rows(cells, [], sheet.width).one_by_one():
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow([cell_text(cell) or "" for cell in row])
            yield name, number, buffer.getvalue().replace("\x00", "\\x00"), column
    finally:
        workbook.close()


def _skipped(name: str, why: str) -> Export:
    """A sheet that is not a table of transactions: said in the ledger row, not loaded, not a rejection."""
    return Export(name, iter(()), skipped=f"sheet {name!r} skipped, not a table of transactions: {why}")


def _staged_rows(source: _Rows) -> Iterator[StagedRow]:
    columns = source.columns
    for number, row in source.one_by_one():
        yield (0, number, None, None, *(cell_text(row[column]) for column in columns))


def _text_batches(source: _Rows) -> Iterator[pa.Table]:
    """The sheet's lines as text batches, converted a column at a time."""
    for numbers, block in source.blocks():
        nulls = pa.nulls(len(block), pa.string())
        values = [_text_array(list(map(itemgetter(column), block))) for column in source.columns]
        yield pa.Table.from_arrays([pa.array(numbers), nulls, nulls, *values], schema=TEXT_BATCH_SCHEMA)


def _text_array(cells: list) -> pa.Array:
    """``cell_text`` of every cell, computed once per distinct value (a block has a few thousand dates, prices,
    invoices)."""
    kinds = set(map(type, cells))
    if kinds == {str}:
        array = pa.array(cells, pa.string())
        empty = pc.equal(array, "")
        return pc.if_else(empty, _NULL, array) if pc.any(empty).as_py() else array
    if bool in kinds and len(kinds) > 1:  # True == 1.0 as a key: no shared table of texts
        return pa.array([cell_text(cell) for cell in cells], pa.string())
    texts = {cell: cell_text(cell) for cell in set(cells)}
    return pa.array(list(map(texts.__getitem__, cells)), pa.string())
