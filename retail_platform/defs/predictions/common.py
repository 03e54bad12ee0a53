"""What the prediction assets share: their run config, reading a query into pandas, replacing a table."""

from collections.abc import Mapping, Sequence

import dagster as dg
import pandas as pd
from sqlalchemy import Engine, text

from retail_platform.analytics.evaluation import TimeSplit
from retail_platform.defs.metadata import table_metadata
from retail_platform.warehouse.bulk import CHUNK_ROWS, read_copy_frame, replace_contents
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


def read_frame(
    engine: Engine,
    query: str,
    types: Mapping[str, str],
    params: dict | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> pd.DataFrame:
    """``sql/queries/<query>`` as a frame of the columns ``types`` names, with those dtypes (``"category"``
    for repeated strings such as stock codes, ``"datetime64[ns]"`` for dates and times).

    Without parameters the rows stream out through COPY (``warehouse.bulk.read_copy_frame``): memory holds
    the typed columns and one chunk, never millions of Python row objects (the 4.2 million customer x
    product pairs at 10,673,710 lines took 2.3 GB as tuples). A query with parameters (COPY takes none) is
    read with pandas' SQL reader; keep those small."""
    sql_text = read_sql(f"queries/{query}").strip().rstrip(";")
    with engine.connect() as conn:
        # per-customer and per-invoice hash aggregates of up to a line each: room for them in memory
        conn.execute(text(f"SET LOCAL work_mem = '{QUERY_WORK_MEM}'"))
        if params:
            frame = pd.read_sql_query(text(sql_text), conn, params=params)
            return frame.loc[:, list(types)].astype(dict(types))
        return read_copy_frame(conn, sql_text, types, chunk_rows)


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
