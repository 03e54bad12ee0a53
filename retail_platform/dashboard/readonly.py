"""Reading the warehouse read-only, as a read-only role: the dashboard's and the notebook's one way in.

Every read is one transaction that starts with ``SET TRANSACTION READ ONLY`` and ``SET LOCAL ROLE``: the marts
as ``retail_reader`` (migration 001), the Data health views as ``retail_monitor`` (migration 011). So even the
warehouse owner's URL gives a reader no more than those roles may do, and a login that is not a member of
them fails loudly instead of seeing more. No Streamlit here: the notebook uses it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from retail_platform.warehouse.connection import pooled_engine

READER = "retail_reader"
MONITOR = "retail_monitor"
ROLES = frozenset({READER, MONITOR})
STATEMENT_TIMEOUT = "30s"


@lru_cache(maxsize=4)
def reader_engine(url: str) -> Engine:
    """A small pool of the readers' own, named in pg_stat_activity."""
    return pooled_engine(url, "retail_dashboard", max_overflow=2)


def numbers_as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """NUMERIC arrives as Decimal objects; charts and arithmetic want floats."""
    for column in frame.columns:
        values = frame[column].dropna()
        if frame[column].dtype == object and len(values) and isinstance(values.iloc[0], Decimal):
            frame[column] = frame[column].astype(float)
    return frame


def read_only_frame(
    url: str, sql: str, role: str = READER, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The rows of ``sql`` (bound ``params``) on ``url`` as ``role``, in a read-only transaction."""
    if role not in ROLES:
        raise ValueError(f"readers read as {sorted(ROLES)}, not {role!r}")
    with reader_engine(url).connect() as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        conn.execute(text(f"SET LOCAL ROLE {role}"))  # one of two constants, checked above
        conn.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"))
        result = conn.execute(text(sql), dict(params or {}))
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return numbers_as_floats(frame)
