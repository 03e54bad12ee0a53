"""What changed since the last downstream refresh, from the load ledger (README, *Incremental refresh*).

The ledger is the record of every change to ``raw.transactions``: file loads and shop extracts alike write a
row with the months their lines fell in (``months_touched``, migration 012). The refresh after loads asks it
for the loads after the last one a refresh covered, and for the months to rebuild
(``sql/queries/refresh_months.sql``: the touched months plus the months that depend on them). Pure SQL and
no Dagster, so it can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, text

from retail_platform.warehouse.sql_files import read_sql


@dataclass(frozen=True)
class Load:
    """A ledger row after the watermark: its id, the run that wrote it, and whether it inserted lines."""

    load_id: int
    run_id: str | None
    touched: bool


def loads_after(engine: Engine, load_id: int) -> list[Load]:
    """The ledger rows after ``load_id``, oldest first (a handful between two refreshes)."""
    with engine.connect() as conn:
        rows = conn.execute(text(read_sql("queries/ledger_loads_after.sql")), {"load_id": load_id})
        return [Load(row.load_id, row.run_id, row.touched) for row in rows]


def refresh_months(engine: Engine, load_ids: list[int]) -> tuple[date, date] | None:
    """The first and last month (first days) to rebuild after ``load_ids``; None when they touched none."""
    if not load_ids:
        return None
    with engine.connect() as conn:
        row = conn.execute(text(read_sql("queries/refresh_months.sql")), {"load_ids": load_ids}).one()
    if row.first_month is None:
        return None
    return row.first_month, max(row.last_month, row.first_month)
