"""Assets whose whole job is SQL transform files: ``sql/transforms/<schema>/<table>.sql``."""

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg
from sqlalchemy import Engine

from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.resources import WarehouseResource
from retail_platform.warehouse.sql_files import run_script, transform_sql


def rebuild_table(engine: Engine, table: str, order_by: str | None = None) -> dict[str, dg.MetadataValue]:
    """Run ``table``'s transform in one transaction and return its metadata for the UI."""
    with engine.begin() as conn:
        run_script(conn, transform_sql(table))
        return table_metadata(conn, table, order_by=order_by)


def sql_table_asset(
    table: str,
    *,
    deps: Sequence[dg.AssetKey],
    description: str,
    group_name: str,
    order_by: str | None = None,
) -> dg.AssetsDefinition:
    """An asset that rebuilds ``table`` atomically (TRUNCATE and INSERT in one transaction: readers see the
    old rows or the new ones, never a half-built table) and reports its metadata."""
    schema, name = table.split(".")
    transform_sql(table)  # fail at import time, not at run time, when the SQL file is missing

    @dg.asset(
        name=name,
        key_prefix=[schema],
        deps=deps,
        group_name=group_name,
        description=description,
        kinds={"postgres", "sql"},
    )
    def _table(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        metadata = rebuild_table(warehouse.get_engine(), table, order_by)
        context.log.info(f"{table}: {metadata['dagster/row_count'].value:,} rows")
        return dg.MaterializeResult(metadata=metadata)

    return _table


@dataclass(frozen=True)
class SqlTable:
    """A table rebuilt by ``sql/transforms/<schema>/<table>.sql``, as one asset of ``sql_tables_asset``."""

    table: str
    description: str
    order_by: str | None = None

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey(self.table.split("."))


def _parallel_connections(tables: int) -> int:
    """How many tables to build at once: one connection per core of this machine (each transform is one
    single-process statement on the server), at least two, never more than there are tables."""
    return max(1, min(tables, max(2, os.cpu_count() or 2)))


def sql_tables_asset(
    name: str, tables: Sequence[SqlTable], *, deps: Sequence[dg.AssetKey], group_name: str
) -> dg.AssetsDefinition:
    """Several independent SQL tables with the same inputs, each its own asset (key, description, checks,
    metadata), built concurrently in one step on separate connections.

    The in-process executor runs steps one after another, and PostgreSQL runs an ``INSERT ... SELECT`` in a
    single process: as separate steps these tables would keep one core busy at a time. Each table is still
    rebuilt in its own transaction (readers see its old rows or its new ones), a failure of one does not undo
    the others, and any subset can be materialized alone (from the UI, a backfill, a job selection).
    """
    for table in tables:
        transform_sql(table.table)  # fail at import time when a SQL file is missing

    specs = [
        dg.AssetSpec(
            table.key,
            deps=deps,
            group_name=group_name,
            description=table.description,
            kinds={"postgres", "sql"},
            skippable=True,
        )
        for table in tables
    ]

    @dg.multi_asset(name=name, specs=specs, can_subset=True)
    def _tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        selected = [table for table in tables if table.key in context.selected_asset_keys]
        engine = warehouse.get_engine()

        workers = _parallel_connections(len(selected))
        context.log.info(f"Building {', '.join(t.table for t in selected)} on {workers} connections")
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sql-table") as pool:
            futures = [
                (table, pool.submit(rebuild_table, engine, table.table, table.order_by)) for table in selected
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
