"""Writing a pandas frame into an existing table with COPY (never row-by-row INSERTs)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection


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
