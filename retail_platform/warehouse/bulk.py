"""Writing a pandas frame into an existing table with COPY (never row-by-row INSERTs), replacing a table's
contents atomically without blocking its readers, and reading a query's rows into a frame with COPY."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import Connection, text

CHUNK_ROWS = 100_000


def _plain(value: object) -> object:
    """Convert numpy and pandas scalars to what psycopg's COPY adapters expect."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def copy_frame(conn: Connection, frame: pd.DataFrame, table: str, columns: Sequence[str]) -> int:
    """COPY ``frame[columns]`` into ``table`` (``schema.name``) on the connection's open transaction."""
    quote = conn.dialect.identifier_preparer.quote
    schema, name = table.split(".")
    column_list = ", ".join(quote(column) for column in columns)
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {quote(schema)}.{quote(name)} ({column_list}) FROM STDIN") as copy:
            for row in frame.loc[:, list(columns)].itertuples(index=False, name=None):
                copy.write_row([_plain(value) for value in row])
    finally:
        cursor.close()
    return len(frame)


def take_write_turn(conn: Connection, table: str) -> None:
    """Wait until no other transaction is rewriting ``table`` (a transaction-scoped advisory lock named after
    it). Two refreshes at once (two ``retail-platform run``s on one warehouse) would otherwise both delete the
    old rows and the second would insert rows the first just inserted (a unique violation), or double them.
    Readers take no such lock: they are never blocked."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:table, 7311))"), {"table": table})


def delete_rows(conn: Connection, table: str) -> None:
    """Empty ``table`` on the connection's open transaction the way readers never notice: a ``DELETE`` (row
    locks only, MVCC) instead of a ``TRUNCATE``, whose ACCESS EXCLUSIVE lock would wait for every reader's
    open transaction and then make every new reader wait until the commit (issue 13, defect 4)."""
    quote = conn.dialect.identifier_preparer.quote
    schema, name = table.split(".")
    conn.exec_driver_sql(f"DELETE FROM {quote(schema)}.{quote(name)}")


def replace_contents(conn: Connection, table: str, frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """Replace every row of ``table`` with ``frame`` in the caller's transaction: readers see the old rows
    until the commit and the new ones after it, never half a table, and are never blocked."""
    take_write_turn(conn, table)
    delete_rows(conn, table)
    return copy_frame(conn, frame, table, columns)


def read_copy_frame(
    conn: Connection, query: str, types: Mapping[str, str], chunk_rows: int = CHUNK_ROWS
) -> pd.DataFrame:
    """The rows of ``query`` (SQL of the project, not data) as a frame of the columns ``types`` names, with
    those dtypes (``"category"`` for repeated strings, ``"datetime64[ns]"`` for dates and times), on the
    connection's transaction. They stream out through ``COPY (query) TO STDOUT`` into pandas' C CSV parser,
    ``chunk_rows`` at a time, each chunk typed before the next is read. NULLs and empty strings read as
    missing values; every other string is kept as it is ("NA" included)."""
    dates = [column for column, dtype in types.items() if dtype.startswith("datetime64")]
    others = {column: dtype for column, dtype in types.items() if column not in dates}
    with (
        conn.connection.driver_connection.cursor() as cursor,
        cursor.copy(f"COPY ({query.strip().rstrip(';')}\n) TO STDOUT (FORMAT csv, HEADER true)") as copy,
    ):
        stream = io.BufferedReader(_CopyStream(copy), buffer_size=1 << 20)
        chunks = [
            chunk.astype({column: types[column] for column in dates})
            for chunk in pd.read_csv(
                stream,
                usecols=list(types),
                dtype=others,
                parse_dates=dates,
                keep_default_na=False,  # a stock code "NA" is a stock code; only empty fields are missing
                na_values=[""],
                skip_blank_lines=False,  # a row of one NULL column is an empty line
                chunksize=chunk_rows,
            )
        ]
    if not chunks:
        return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in types.items()})
    return _concat(chunks).loc[:, list(types)]


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks as one frame, emptied column by column as it is built (memory holds about one copy);
    categorical columns stay categorical, their categories united."""
    if len(chunks) == 1:
        return chunks[0]
    out = {}
    for column in list(chunks[0].columns):
        parts = [chunk.pop(column) for chunk in chunks]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            out[column] = pd.Series(union_categoricals(parts))
        else:
            out[column] = pd.concat(parts, ignore_index=True)
        del parts
    return pd.DataFrame(out, copy=False)


class _CopyStream(io.RawIOBase):
    """A COPY TO STDOUT as a readable byte stream, for pandas' CSV parser."""

    def __init__(self, copy) -> None:
        self._copy = copy
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._pending:
            self._pending = memoryview(self._copy.read())  # empty at the end of the data
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
