"""What every reader hands the loader: exports (a file, or one sheet of a workbook: SPEC §3) and their lines.

An export offers its lines two ways, values as text exactly as written, in canonical column order:

- ``rows``: ``StagedRow`` tuples, one line at a time (every format; what other sources such as the shop's
  database extract hand to the loader);
- ``text_batches()``: Arrow tables of ``TEXT_BATCH_SCHEMA``, a block of lines at a time, built by the reader
  itself when it has a faster way to the same lines (CSV blocks parsed by Arrow, workbook columns converted
  at once), else batched from ``rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from retail_platform.ingestion.columns import CANONICAL_COLUMNS

# Lines per batch when rows are batched: big enough that per-batch costs vanish, small enough that memory
# stays flat.
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

# (export number, source row, structural error, raw text, *eight canonical values)
StagedRow = tuple
NO_VALUES: tuple[None, ...] = (None,) * len(CANONICAL_COLUMNS)  # the values of a line that is not a row


# A line of a wholly rejected file, kept in raw.rejected_lines: (export, row number, raw text, column or None)
KeptLine = tuple[str, int, str, str | None]


class FileRejected(Exception):
    """The whole file cannot be read as transactions; ``lines`` data lines were seen in it.

    ``keep``, when the reader can still read the file's lines as text, streams them (``KeptLine``) so that
    the loader keeps every one in raw.rejected_lines with this reason (SPEC §3: a rejected line is kept)."""

    def __init__(
        self, message: str, lines: int = 0, keep: Callable[[], Iterator[KeptLine]] | None = None
    ) -> None:
        super().__init__(message)
        self.lines = lines
        self.keep = keep


@dataclass
class Export:
    """One export inside a file: its name (the sheet for workbooks) and its rows.

    ``batches``, when a reader has a faster way to produce the same lines than ``rows`` (a CSV file parsed by
    blocks, a sheet converted a column at a time), returns them as text batches; either ``rows`` or
    ``text_batches()`` is consumed, never both.
    """

    name: str
    rows: Iterator[StagedRow]
    batches: Callable[[], Iterator[pa.Table]] | None = None
    # set for a part of the file that is not a table of transactions (a workbook's "Notes" sheet): why it is
    # skipped, for the ledger row; such an export has no rows and is not numbered
    skipped: str | None = None

    def text_batches(self) -> Iterator[pa.Table]:
        """The export's lines as tables of ``TEXT_BATCH_SCHEMA``."""
        if self.batches is not None:
            return self.batches()
        return rows_to_batches(self.rows)


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


def rows_to_batches(rows: Iterable[StagedRow]) -> Iterator[pa.Table]:
    """``rows`` as text batches of ``BATCH_ROWS`` lines."""
    buffer: list[StagedRow] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= BATCH_ROWS:
            yield rows_table(buffer)
            buffer = []
    if buffer:
        yield rows_table(buffer)
