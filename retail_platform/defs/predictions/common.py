"""What the prediction assets share: their run config, reading a query into pandas, replacing a table."""

from collections.abc import Sequence

import dagster as dg
import pandas as pd
from sqlalchemy import Engine, text

from retail_platform.analytics.evaluation import TimeSplit
from retail_platform.defs.metadata import table_metadata
from retail_platform.warehouse.bulk import replace_contents
from retail_platform.warehouse.sql_files import read_sql

DEFAULT_HORIZON_DAYS = 90
QUERY_WORK_MEM = "64MB"


# The split's columns in every evaluation table: when calibration ended, when the holdout ended, its length.
SPLIT_COLUMNS = ("calibration_end", "snapshot_date", "horizon_days")


class SplitConfig(dg.Config):
    """``snapshot_date`` (YYYY-MM-DD): the midnight predictions are made at, only earlier purchases count;
    default the midnight after the latest purchase (the RFM snapshot). ``horizon_days``: how far ahead
    purchases and churn are predicted, and the length of the evaluation's holdout."""

    snapshot_date: str | None = None
    horizon_days: int = DEFAULT_HORIZON_DAYS

    def snapshot(self, default: pd.Timestamp) -> pd.Timestamp:
        return pd.Timestamp(self.snapshot_date).normalize() if self.snapshot_date else default

    def split(self, default_snapshot: pd.Timestamp) -> TimeSplit:
        return TimeSplit(self.snapshot(default_snapshot), self.horizon_days)


def mart_spec(
    key: dg.AssetKey, description: str, *, deps: Sequence[dg.AssetKey], model_kind: str
) -> dg.AssetSpec:
    """A prediction mart: in the ``marts`` group, stored in PostgreSQL, computed with ``model_kind``."""
    return dg.AssetSpec(
        key, deps=deps, group_name="marts", kinds={"postgres", model_kind}, description=description
    )


def read_frame(engine: Engine, query: str, params: dict | None = None) -> pd.DataFrame:
    """``sql/queries/<query>`` as a frame. Without parameters the rows come through a binary cursor (no text
    parsing on either side): a few times faster than pandas' reader for a few hundred thousand rows."""
    sql_text = read_sql(f"queries/{query}").strip().rstrip(";")
    with engine.connect() as conn:
        # per-customer and per-invoice hash aggregates of up to a line each: room for them in memory
        conn.execute(text(f"SET LOCAL work_mem = '{QUERY_WORK_MEM}'"))
        if params:
            return pd.read_sql_query(text(sql_text), conn, params=params)
        cursor = conn.connection.driver_connection.cursor(binary=True)
        try:
            cursor.execute(sql_text)
            columns = [column.name for column in cursor.description]
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def replace_table(
    engine: Engine, table: str, frame: pd.DataFrame, columns: Sequence[str], order_by: str | None = None
) -> dict[str, dg.MetadataValue]:
    """Replace ``table``'s rows with ``frame`` in one transaction (DELETE and COPY: readers see the old rows or
    the new ones, never half a table, and are never blocked); the table's metadata for the UI."""
    with engine.begin() as conn:
        replace_contents(conn, table, frame, columns)
        return table_metadata(conn, table, order_by=order_by, row_count=len(frame))


def floats(values: dict[str, float | None]) -> dict[str, dg.MetadataValue]:
    """Metric values as float metadata (plotted over materializations in the UI); missing ones left out."""
    return {
        name: dg.MetadataValue.float(round(float(value), 6))
        for name, value in values.items()
        if value is not None and not pd.isna(value)
    }
