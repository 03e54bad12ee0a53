"""Assets whose whole job is SQL transform files: one file per table, ``sql/transforms/<schema>/<table>.sql``.

A table partitioned by month has one transform that takes its months as bound parameters ``:month_start``
(inclusive) and ``:month_end`` (exclusive): a run over some months passes their first days, a full refresh
``-infinity`` .. ``infinity`` (every month that holds data). Every transform replaces rows with ``DELETE`` and
``INSERT`` in the table's one transaction, never ``TRUNCATE``: readers see the old rows or the new ones, never
half a table, and a reader's open transaction does not stall the refresh, nor the refresh the readers (a
TRUNCATE needs an ACCESS EXCLUSIVE lock: it waits for every open reader and then blocks every new one until the
commit). README, *Readers never block*.
"""

import os
import re
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import dagster as dg
from sqlalchemy import Connection, Engine, text

from retail_platform.defs.metadata import qualified, table_metadata
from retail_platform.defs.partitions import (
    EVERY_MONTH_PARAMS,
    MONTHS,
    SINGLE_RUN,
    MonthSpan,
    month_keys_between,
    run_months,
)
from retail_platform.defs.resources import WarehouseResource
from retail_platform.warehouse.bulk import take_write_turn
from retail_platform.warehouse.empty_tables import drop_indexes, take_if_empty
from retail_platform.warehouse.sql_files import read_sql, run_script, transform_sql

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")


def split_statements(sql: str) -> list[str]:
    """The statements of a SQL script, comments dropped: each can then be executed with bound parameters
    (PostgreSQL takes parameters for one statement at a time). Semicolons inside string literals, quoted
    identifiers and dollar-quoted bodies do not split."""
    statements: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        if sql.startswith("/*", i):
            i = sql.index("*/", i) + 2
            continue
        char = sql[i]
        if char in "'\"":
            end = i + 1
            while (end := sql.index(char, end)) + 1 < len(sql) and sql[end + 1] == char:
                end += 2  # a doubled quote inside the literal
            current.append(sql[i : end + 1])
            i = end + 1
            continue
        tag = _DOLLAR_TAG.match(sql, i) if char == "$" else None
        if tag:
            end = sql.index(tag.group(), tag.end()) + len(tag.group())
            current.append(sql[i:end])
            i = end
            continue
        if char == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current).strip())
    return [statement for statement in statements if statement]


def takes_months(table: str) -> bool:
    """Whether ``table``'s transform takes the month bounds (the month-partitioned tables' transforms)."""
    return ":month_start" in transform_sql(table)


def run_transform(conn: Connection, table: str, months: MonthSpan | None = None) -> None:
    """Run ``table``'s transform on the connection's transaction: for ``months`` (default: a full refresh,
    every month that holds data) when it takes months, as one script otherwise."""
    sql = transform_sql(table)
    take_write_turn(conn, table)
    if not takes_months(table):
        run_script(conn, sql)
        return
    wide = months is None or months.wide
    params = months.params if months is not None else dict(EVERY_MONTH_PARAMS)
    for statement in split_statements(sql):
        if not wide and _is_analyze(statement):
            continue  # one or two months change a few percent of the rows: autovacuum's ANALYZE keeps up
        conn.execute(text(statement), params)


def _is_analyze(statement: str) -> bool:
    """An ``ANALYZE`` of a month table's transform: run by a full refresh and by runs of more than two months
    (a first refresh after a deployment, a burst, a wide backfill), skipped by a day's refresh of one or two
    months (1.1 s a run at 10,673,710 lines, a tenth of it, for statistics it hardly changes)."""
    return statement.lstrip().upper().startswith("ANALYZE")  # split_statements dropped the comments


def _data_month_keys(conn: Connection, table: str, month_column: str) -> list[str]:
    """The partition keys of the months ``table`` holds rows for (first to last: the series is contiguous)."""
    column = conn.dialect.identifier_preparer.quote(month_column)
    first, last = conn.execute(
        text(f"SELECT min({column}), max({column}) FROM {qualified(conn, table)}")
    ).one()
    return month_keys_between(first, last)


def rebuild_table(
    engine: Engine,
    table: str,
    order_by: str | None = None,
    months: MonthSpan | None = None,
    month_column: str | None = None,
    facts: Sequence[str] = (),
    row_count_query: str | None = None,
) -> dict[str, dg.MetadataValue]:
    """Run ``table``'s transform (for ``months``, when it has a month grain) in one transaction and return its
    metadata for the UI; for a full refresh of a month table, ``this_run/data_months`` lists the months
    that hold data (``month_column``: the table's month or day column). ``facts``: transforms of facts built
    from the table, run after it in the same transaction for the same months. ``row_count_query``: a query
    file (``sql/queries``) that counts the table's rows exactly and faster than ``count(*)``.

    The first build of a month table (a full refresh while it is empty) takes the table (``take_if_empty``):
    its rows then skip the WAL on the embedded server and its indexes are built once after its transform,
    before the facts read it; its readers, who have nothing to read yet, wait for the commit instead of
    seeing it empty."""
    with engine.begin() as conn:
        indexes = _first_build(conn, table) if month_column and (months is None or months.every) else []
        run_transform(conn, table, months)
        for definition in indexes:  # psycopg without parameters: a '%' in a predicate stays as it is
            conn.connection.driver_connection.execute(definition)
        for fact in facts:
            run_transform(conn, fact, months)
        rows = None
        if row_count_query is not None:
            rows = conn.execute(text(read_sql(f"queries/{row_count_query}.sql"))).scalar_one()
        metadata = table_metadata(conn, table, order_by=order_by, row_count=rows)
        if months is not None:
            metadata["this_run/months"] = dg.MetadataValue.text(
                "every month that holds data (full refresh)"
                if months.every
                else f"{months.start} to {months.end} (exclusive)"
            )
            if months.every and month_column:
                keys = _data_month_keys(conn, table, month_column)
                metadata["this_run/data_months"] = dg.MetadataValue.json(keys)
        return metadata


def _first_build(conn: Connection, table: str) -> list[str]:
    """Take ``table`` when it is empty (``take_if_empty``) and drop its indexes: their definitions."""
    take_write_turn(conn, table)  # before the table's lock, as every writer of the table takes them
    pg = conn.connection.driver_connection
    indexes: list[str] = []
    take_if_empty(pg, table, then=lambda: indexes.extend(drop_indexes(pg, table)))
    return indexes


def record_data_months(
    context: dg.AssetExecutionContext, key: dg.AssetKey, metadata: dict[str, dg.MetadataValue]
) -> Iterator[dg.AssetMaterialization]:
    """A full refresh rebuilt every month that holds data, whatever its partition range (the current month):
    one materialization for each of those months outside the range, so the UI shows each rebuilt month,
    and no empty month since ``RETAIL_FIRST_MONTH`` is recorded."""
    data_months = metadata.get("this_run/data_months")
    if data_months is None:
        return
    in_run = set(context.partition_keys)
    # the table's column schema on each (the schema-change check compares the latest two materializations)
    schema = metadata.get("dagster/column_schema")
    shared = {"dagster/column_schema": schema} if schema is not None else {}
    for partition in data_months.value:  # type: ignore[union-attr]
        if partition not in in_run:
            yield dg.AssetMaterialization(
                asset_key=key,
                partition=partition,
                metadata={
                    **shared,
                    "this_run/months": dg.MetadataValue.text("every month that holds data (full refresh)"),
                },
            )


def sql_table_asset(
    table: str,
    *,
    deps: Sequence[dg.AssetKey],
    description: str,
    group_name: str,
    order_by: str | None = None,
    month_column: str | None = None,
    facts: Sequence[str] = (),
    row_count_query: str | None = None,
) -> dg.AssetsDefinition:
    """An asset that rebuilds ``table`` atomically (DELETE and INSERT in one transaction: readers see the old
    rows or the new ones, never a half-built table, and are never blocked) and reports its metadata.
    ``month_column``: partitioned by month of that column, a run rebuilds its months (module docstring).
    ``facts``: the transforms of facts maintained with the table, in its transaction (``rebuild_table``)."""
    schema, name = table.split(".")
    monthly = month_column is not None
    if takes_months(table) != monthly:  # fail at import time (also when the SQL file is missing)
        raise ValueError(f"{table}: its transform {'must' if monthly else 'must not'} take :month_start")

    with (
        warnings.catch_warnings()
    ):  # backfill_policy on @asset is a beta parameter in Dagster 1.13: no console
        warnings.simplefilter("ignore", dg.BetaWarning)  # warning on every command that loads the definitions

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
        def _table(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
            months = run_months(context) if monthly else None
            metadata = rebuild_table(
                warehouse.get_engine(), table, order_by, months, month_column, facts, row_count_query
            )
            context.log.info(f"{table}: {metadata['dagster/row_count'].value:,} rows")
            yield from record_data_months(context, context.asset_key, metadata)
            yield dg.MaterializeResult(metadata=metadata)

    return _table


@dataclass(frozen=True)
class SqlTable:
    """A table rebuilt by ``sql/transforms/<schema>/<table>.sql``, as one asset of ``sql_tables_asset``."""

    table: str
    description: str
    order_by: str | None = None
    deps: tuple[dg.AssetDep, ...] = ()  # beyond the asset's common deps (e.g. a partition mapping)
    month_column: str | None = None  # the month or day column of a month-partitioned table

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
    for table in tables:  # fail at import time when a SQL file is missing or takes the wrong parameters
        if takes_months(table.table) != monthly or monthly != (table.month_column is not None):
            raise ValueError(
                f"{table.table}: month transform and month_column must go with monthly={monthly}"
            )

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
                (
                    table,
                    pool.submit(
                        rebuild_table, engine, table.table, table.order_by, months, table.month_column
                    ),
                )
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
            yield from record_data_months(context, table.key, metadata)
            yield dg.MaterializeResult(asset_key=table.key, metadata=metadata)
        if failed:
            names = ", ".join(table.table for table, _ in failed)
            raise RuntimeError(f"could not rebuild {names}: {failed[0][1]}") from failed[0][1]

    return _tables
