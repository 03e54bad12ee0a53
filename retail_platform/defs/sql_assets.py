"""Assets whose whole job is SQL transform files: ``sql/transforms/<schema>/<table>.sql``, and, for the tables
partitioned by month, ``sql/transforms/<schema>/<table>.months.sql`` for a run over some months (README,
*Monthly partitions*).

A month script deletes the rows of the run's months and inserts them again, in the table's one transaction:
readers see the old month or the new one, never half a month, and nothing takes an exclusive lock (a TRUNCATE
would block every reader of the table until the commit). The months reach the script as the transaction's
settings ``retail.month_start`` / ``retail.month_end`` (set with bound parameters, read with
``current_setting``), so the scripts can hold several statements and no value is ever spliced into SQL. A run
over every month (the full refresh) uses the table's full transform instead, with its faster TRUNCATE path.
"""

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg
from sqlalchemy import Engine, text

from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.partitions import MONTHS, SINGLE_RUN, MonthSpan, run_months
from retail_platform.defs.resources import WarehouseResource
from retail_platform.warehouse.sql_files import read_sql, run_script, transform_sql

_SET_MONTHS = (
    "SELECT set_config('retail.month_start', CAST(:month_start AS text), true), "
    "set_config('retail.month_end', CAST(:month_end AS text), true)"
)
_EVERY_MONTH = {"month_start": "-infinity", "month_end": "infinity"}


def month_transform_sql(table: str) -> str:
    """The transform that rebuilds some months of ``schema.table``: ``sql/transforms/<schema>/<table>.months.sql``."""
    schema, name = table.split(".")
    return read_sql(f"transforms/{schema}/{name}.months.sql")


def rebuild_table(
    engine: Engine,
    table: str,
    order_by: str | None = None,
    months: MonthSpan | None = None,
    facts: Sequence[str] = (),
) -> dict[str, dg.MetadataValue]:
    """Run ``table``'s transform (or its month transform, for some months) in one transaction and return its
    metadata for the UI. ``facts``: month scripts ``sql/transforms/<fact>.months.sql`` run after it in the same
    transaction, for the same months (every month: bounds -infinity .. infinity)."""
    with engine.begin() as conn:
        if months is None or months.every:
            run_script(conn, transform_sql(table))
            if facts:
                conn.execute(text(_SET_MONTHS), _EVERY_MONTH)
        else:
            conn.execute(text(_SET_MONTHS), months.params)
            run_script(conn, month_transform_sql(table))
        for fact in facts:
            run_script(conn, read_sql(f"transforms/{fact}.months.sql"))
        metadata = table_metadata(conn, table, order_by=order_by)
        if months is not None:
            metadata["this_run/months"] = dg.MetadataValue.text(
                "every month" if months.every else f"{months.start} to {months.end} (exclusive)"
            )
        return metadata


def sql_table_asset(
    table: str,
    *,
    deps: Sequence[dg.AssetKey],
    description: str,
    group_name: str,
    order_by: str | None = None,
    monthly: bool = False,
    facts: Sequence[str] = (),
) -> dg.AssetsDefinition:
    """An asset that rebuilds ``table`` atomically (TRUNCATE and INSERT in one transaction: readers see the
    old rows or the new ones, never a half-built table) and reports its metadata. ``monthly``: partitioned by
    month, a run rebuilds its months (see the module docstring). ``facts``: fact scripts maintained with the
    table, in its transaction (``rebuild_table``)."""
    schema, name = table.split(".")
    transform_sql(table)  # fail at import time, not at run time, when the SQL file is missing
    if monthly:
        month_transform_sql(table)
    for fact in facts:
        read_sql(f"transforms/{fact}.months.sql")

    @dg.asset(
        name=name,
        key_prefix=[schema],
        deps=deps,
        group_name=group_name,
        description=description,
        kinds={"postgres", "sql"},
        partitions_def=MONTHS if monthly else None,
        backfill_policy=SINGLE_RUN if monthly else None,
    )
    def _table(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        months = run_months(context) if monthly else None
        metadata = rebuild_table(warehouse.get_engine(), table, order_by, months, facts)
        context.log.info(f"{table}: {metadata['dagster/row_count'].value:,} rows")
        return dg.MaterializeResult(metadata=metadata)

    return _table


@dataclass(frozen=True)
class SqlTable:
    """A table rebuilt by ``sql/transforms/<schema>/<table>.sql``, as one asset of ``sql_tables_asset``."""

    table: str
    description: str
    order_by: str | None = None
    deps: tuple[dg.AssetDep, ...] = ()  # beyond the asset's common deps (e.g. a partition mapping)

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(self.table.split("."))


def _parallel_connections(tables: int) -> int:
    """How many tables to build at once: one connection per core of this machine (each transform is one
    single-process statement on the server), at least two, never more than there are tables."""
    return max(1, min(tables, max(2, os.cpu_count() or 2)))


def sql_tables_asset(
    name: str,
    tables: Sequence[SqlTable],
    *,
    deps: Sequence[dg.AssetKey | dg.AssetDep],
    group_name: str,
    monthly: bool = False,
) -> dg.AssetsDefinition:
    """Several independent SQL tables with the same inputs, each its own asset (key, description, checks,
    metadata), built concurrently in one step on separate connections.

    The in-process executor runs steps one after another, and PostgreSQL runs an ``INSERT ... SELECT`` in a
    single process: as separate steps these tables would keep one core busy at a time. Each table is still
    rebuilt in its own transaction (readers see its old rows or its new ones), a failure of one does not undo
    the others, and any subset can be materialized alone (from the UI, a backfill, a job selection).
    ``monthly``: the tables are partitioned by month and a run rebuilds its months.
    """
    for table in tables:
        transform_sql(table.table)  # fail at import time when a SQL file is missing
        if monthly:
            month_transform_sql(table.table)

    specs = [
        dg.AssetSpec(
            table.key,
            deps=[*deps, *table.deps],
            group_name=group_name,
            description=table.description,
            kinds={"postgres", "sql"},
            skippable=True,
        )
        for table in tables
    ]

    @dg.multi_asset(
        name=name,
        specs=specs,
        can_subset=True,
        partitions_def=MONTHS if monthly else None,
        backfill_policy=SINGLE_RUN if monthly else None,
    )
    def _tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        selected = [table for table in tables if table.key in context.selected_asset_keys]
        engine = warehouse.get_engine()
        months = run_months(context) if monthly else None

        workers = _parallel_connections(len(selected))
        context.log.info(f"Building {', '.join(t.table for t in selected)} on {workers} connections")
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sql-table") as pool:
            futures = [
                (table, pool.submit(rebuild_table, engine, table.table, table.order_by, months))
                for table in selected
            ]
        failed: list[tuple[SqlTable, BaseException]] = []
        for table, future in futures:
            error = future.exception()
            if error is not None:
                failed.append((table, error))
                continue
            metadata = future.result()
            context.log.info(f"{table.table}: {metadata['dagster/row_count'].value:,} rows")
            yield dg.MaterializeResult(asset_key=table.key, metadata=metadata)
        if failed:
            names = ", ".join(table.table for table, _ in failed)
            raise RuntimeError(f"could not rebuild {names}: {failed[0][1]}") from failed[0][1]

    return _tables
