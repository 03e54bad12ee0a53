"""The sales marts are two steps (the monthly ones, partitioned, and the global ones) each building its assets
concurrently: each is still its own asset (a subset can be materialized alone), and one that fails does not
undo the others."""

from __future__ import annotations

import dagster as dg
import psycopg
from sqlalchemy import Engine

from retail_platform.defs.marts import kpis
from retail_platform.defs.partitions import every_month_tags
from retail_platform.defs.resources import WarehouseResource
from retail_platform.defs.sql_assets import _parallel_connections
from retail_platform_tests.marts import Line, fetch, insert_clean

LINES = [
    Line("500001", quantity=2, unit_price="3.50", customer_id=1),
    Line("500001", stock_code="22423", quantity=1, unit_price="12.75", customer_id=1),
    Line("500002", quantity=4, unit_price="1.25", customer_id=2, invoice_date="2010-02-01 09:00:00"),
    Line("C500003", quantity=-1, unit_price="3.50", customer_id=1, invoice_date="2010-02-02 11:00:00"),
]


def _materialize(database_url: str, keys: list[dg.AssetKey] | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [kpis.sales_marts, kpis.monthly_marts],
        selection=keys,
        resources={"warehouse": WarehouseResource(url=database_url)},
        raise_on_error=False,
        tags=every_month_tags(),
    )


def _rows(engine: Engine, table: str) -> int:
    return int(fetch(engine, f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


def test_every_mart_is_built_with_its_own_materialization(engine: Engine, database_url: str) -> None:
    insert_clean(engine, LINES)
    result = _materialize(database_url)
    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {table.key for table in kpis.SALES_MARTS}
    for table in kpis.SALES_MARTS:
        # the monthly marts: one materialization per month of the run, each with the table's metadata
        event = [e for e in result.get_asset_materialization_events() if e.asset_key == table.key][-1]
        rows = event.step_materialization_data.materialization.metadata["dagster/row_count"].value
        assert rows == _rows(engine, table.table) > 0, table.table


def test_a_subset_builds_only_what_was_asked(engine: Engine, database_url: str) -> None:
    insert_clean(engine, LINES)
    result = _materialize(database_url, [kpis.DAILY_SALES.key])
    assert result.success
    assert {event.asset_key for event in result.get_asset_materialization_events()} == {kpis.DAILY_SALES.key}
    assert _rows(engine, "marts.daily_sales") == len({line.invoice_date[:10] for line in LINES})
    assert _rows(engine, "marts.monthly_kpis") == 0


def test_one_failing_mart_leaves_the_others_built(engine: Engine, database_url: str) -> None:
    insert_clean(engine, LINES)
    with psycopg.connect(database_url, autocommit=True) as conn:  # its transform cannot run any more
        conn.execute("ALTER TABLE marts.top_products RENAME TO top_products_gone")
    result = _materialize(database_url)
    assert not result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {table.key for table in kpis.SALES_MARTS} - {kpis.TOP_PRODUCTS.key}
    assert _rows(engine, "marts.monthly_kpis") == len({line.invoice_date[:7] for line in LINES})
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "could not rebuild marts.top_products" in failure.step_failure_data.error.to_string()


def test_connections_follow_the_cores_within_the_tables() -> None:
    assert _parallel_connections(1) == 1
    assert 2 <= _parallel_connections(5) <= 5
