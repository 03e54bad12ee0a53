"""Assets whose whole job is one SQL transform file: ``sql/transforms/<schema>/<table>.sql``."""

from collections.abc import Sequence

import dagster as dg

from retail_platform.defs.metadata import table_metadata
from retail_platform.defs.resources import WarehouseResource
from retail_platform.warehouse.sql_files import run_script, transform_sql


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
        with warehouse.get_engine().begin() as conn:
            run_script(conn, transform_sql(table))
            metadata = table_metadata(conn, table, order_by=order_by)
        context.log.info(f"{table}: {metadata['dagster/row_count'].value:,} rows")
        return dg.MaterializeResult(metadata=metadata)

    return _table
