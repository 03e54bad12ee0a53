"""Writing a pandas frame into an existing table with COPY (never row-by-row INSERTs), and replacing a
table's contents atomically without blocking its readers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, text


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
