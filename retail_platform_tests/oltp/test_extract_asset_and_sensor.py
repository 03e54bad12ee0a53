"""The extract as a Dagster asset (raw/shop_orders) and the sensor that requests it when the shop has new
orders."""

from __future__ import annotations

import time

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from retail_platform.defs.automation.oltp_sensor import evaluate, shop_orders_sensor
from retail_platform.defs.ingestion.oltp_assets import RAW_SHOP_ORDERS, shop_orders
from retail_platform.defs.resources import ShopDatabaseResource, WarehouseResource
from retail_platform.oltp.extract import extract_shop
from retail_platform.oltp.simulator import ShopSimulator
from retail_platform.warehouse.connection import scratch_database


def _materialize(database_url: str, shop_url: str | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [shop_orders],
        resources={
            "warehouse": WarehouseResource(url=database_url),
            "shop": ShopDatabaseResource(url=shop_url),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    (materialization,) = result.asset_materializations_for_node("raw__shop_orders")
    return {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}


def test_without_a_shop_database_the_extract_does_nothing_and_says_why(database_url, engine):
    result = _materialize(database_url)
    assert result.success
    metadata = _metadata(result)
    assert metadata["status"] == "no shop database" and metadata["dagster/row_count"] == 0
    (check,) = result.get_asset_check_evaluations()
    assert check.passed


def test_the_extract_asset_loads_new_orders_once_and_reconciles(shop_url, shop, database_url, engine):
    placed = ShopSimulator(shop_url, seed=21).place_orders(120)
    first = _metadata(_materialize(database_url, shop_url))
    assert first["status"] == "loaded" and first["lines_loaded"] == placed.lines == first["dagster/row_count"]
    second_result = _materialize(database_url, shop_url)
    second = _metadata(second_result)
    assert second["status"] == "nothing_new" and second["lines_loaded"] == 0
    assert second["dagster/row_count"] == placed.lines
    (check,) = second_result.get_asset_check_evaluations()
    assert check.passed and check.metadata["shop_lines_up_to_mark"].value == placed.lines


def test_a_configured_shop_without_its_schema_fails_the_extract(server_url, database_url, engine):
    with scratch_database(server_url, prefix="rp_shop_bare") as bare_url:  # exists, its schema never applied
        result = dg.materialize(
            [shop_orders],
            resources={
                "warehouse": WarehouseResource(url=database_url),
                "shop": ShopDatabaseResource(url=bare_url),
            },
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    assert not result.success


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_the_sensor_requests_an_extract_only_when_there_are_new_orders(
    shop_url, shop, database_url, engine, instance
):
    warehouse = WarehouseResource(url=database_url)
    unconfigured = {"warehouse": warehouse, "shop": ShopDatabaseResource()}
    no_shop = dg.build_sensor_context(instance=instance, resources=unconfigured)
    assert "no shop database" in shop_orders_sensor(no_shop).skip_message

    configured = {"warehouse": warehouse, "shop": ShopDatabaseResource(url=shop_url)}
    context = dg.build_sensor_context(instance=instance, resources=configured)
    assert "no new or changed orders" in shop_orders_sensor(context).skip_message
    ShopSimulator(shop_url, seed=2).place_orders(10)
    request = shop_orders_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key == "shop@beginning#1"

    # While an extract is queued or running, wait for it.
    running = create_run_for_test(
        instance, job_name="shop_extract_job", status=dg.DagsterRunStatus.STARTED, tags=request.tags
    )
    assert "waiting for run" in shop_orders_sensor(context).skip_message
    instance.report_run_failed(running)
    # It failed: retried under the next run key, after a backoff.
    shop_resource = ShopDatabaseResource(url=shop_url)
    assert "retry 2 in" in evaluate(context, warehouse, shop_resource, now=time.time()).skip_message
    retry = evaluate(context, warehouse, shop_resource, now=time.time() + 60)
    assert retry.run_key == "shop@beginning#2"

    extract_shop(shop, engine)
    assert "no new or changed orders" in shop_orders_sensor(context).skip_message
    ShopSimulator(shop_url, seed=3).place_orders(3)
    later = shop_orders_sensor(context)
    assert (
        isinstance(later, dg.RunRequest)
        and later.run_key.startswith("shop@")
        and later.run_key.endswith("#1")
    )
    assert shop_orders_sensor.job_name == "shop_extract_job"
    assert dg.AssetKey(["raw", "shop_orders"]) == RAW_SHOP_ORDERS
