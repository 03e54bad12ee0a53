"""Monthly partitions (issue 12): they start at RETAIL_FIRST_MONTH; a full refresh rebuilds and records the
months that hold data, not every month since the first partition; the partition keys are computed once."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from retail_platform.defs.cleaning.assets import order_lines
from retail_platform.defs.marts.kpis import monthly_marts
from retail_platform.defs.partitions import (
    FULL_REFRESH_TAG,
    MONTHS_START,
    _month_keys,
    all_month_keys,
    every_month_tags,
    month_range_tags,
)
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.settings import SettingError, load_settings
from retail_platform_tests.marts import Line, fetch_rows, load_raw


def test_the_first_month_is_a_setting_with_a_safe_default():
    assert load_settings({}).first_month == "2000-01"
    assert load_settings({"RETAIL_FIRST_MONTH": "2009-12"}).first_month == "2009-12"
    with pytest.raises(SettingError, match="RETAIL_FIRST_MONTH"):
        load_settings({"RETAIL_FIRST_MONTH": "December 2009"})
    assert all_month_keys()[0] == MONTHS_START


def test_the_partition_keys_are_computed_once():
    all_month_keys()
    misses = _month_keys.cache_info().misses
    for _ in range(50):
        keys = all_month_keys()
    assert _month_keys.cache_info().misses == misses
    keys.clear()  # a caller changing its list does not change the cached keys
    assert all_month_keys()


def test_a_full_refresh_records_the_months_that_hold_data(engine, database_url, paths):
    load_raw(
        engine,
        [
            Line("500001", invoice_date="2010-01-04 10:00:00"),
            Line("500002", invoice_date="2010-03-09 11:00:00"),
        ],
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [order_lines, monthly_marts],
            instance=instance,
            resources={
                "warehouse": WarehouseResource(url=database_url),
                "retail_paths": RetailPathsResource(home=str(paths.home)),
            },
            tags=every_month_tags(),
        )
        assert result.success
        recorded = {
            key: sorted(instance.get_materialized_partitions(dg.AssetKey(key.split("/"))))
            for key in ("clean/order_lines", "marts/monthly_kpis", "marts/daily_sales")
        }
    current = all_month_keys()[-1]
    data_months = ["2010-01-01", "2010-02-01", "2010-03-01"]
    assert recorded["clean/order_lines"] == sorted({*data_months, current})
    assert recorded["marts/monthly_kpis"] == sorted({*data_months, current})  # the gap month has a zero row
    assert recorded["marts/daily_sales"] == sorted({*data_months, current})
    months = fetch_rows(engine, "SELECT month::text, placed_orders FROM marts.monthly_kpis ORDER BY month")
    assert months == [("2010-01-01", 1), ("2010-02-01", 0), ("2010-03-01", 1)]


def test_full_refresh_tags_name_the_current_month_only():
    tags = every_month_tags()
    assert tags[FULL_REFRESH_TAG] == "1"
    assert (
        tags["dagster/asset_partition_range_start"]
        == tags["dagster/asset_partition_range_end"]
        == all_month_keys()[-1]
    )
    before_the_first = month_range_tags(date(1990, 1, 1), date(1990, 2, 1))
    assert before_the_first["dagster/asset_partition_range_start"] == MONTHS_START


def _describe_every_line(engine, description: str) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE clean.order_lines SET description = :d"), {"d": description})


def _descriptions(engine) -> list[tuple]:
    return fetch_rows(
        engine, "SELECT invoice_month::text, description FROM clean.order_lines ORDER BY invoice_month"
    )


def test_a_run_of_refresh_marts_job_naming_months_rebuilds_those_months_only(engine, database_url, paths):
    """The job's default tags make a launch without months a full refresh; the refresh sensor's and the
    backfills' months must still win. (They did not: the job's "retail/full_refresh": "1" survived the run's
    own range tags, so every refresh after a drop rebuilt every month; 114 s of a 173 s day's refresh at
    10,673,710 lines.)"""
    from retail_platform.definitions import defs
    from retail_platform.defs.partitions import BACKFILL_TAG

    load_raw(
        engine,
        [
            Line("500001", invoice_date="2010-01-04 10:00:00", description="JANUARY"),
            Line("500002", invoice_date="2010-03-09 11:00:00", description="MARCH"),
        ],
    )
    resources = {
        "warehouse": WarehouseResource(url=database_url),
        "retail_paths": RetailPathsResource(home=str(paths.home)),
    }
    job = defs.resolve_job_def("refresh_marts_job")
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(
            instance=instance, resources=resources
        ).success  # no months: every month
        assert _descriptions(engine) == [("2010-01-01", "JANUARY"), ("2010-03-01", "MARCH")]

        _describe_every_line(engine, "EDITED")  # only a rebuild of a line's month puts its description back
        march = month_range_tags(date(2010, 3, 1), date(2010, 3, 1))  # what the refresh sensor asks for
        assert job.execute_in_process(instance=instance, resources=resources, tags=march).success
        assert _descriptions(engine) == [("2010-01-01", "EDITED"), ("2010-03-01", "MARCH")]

        # one run of a backfill of January, launched from the job (whose default is every month)
        january = {
            key: value
            for key, value in month_range_tags(date(2010, 1, 1), date(2010, 1, 1)).items()
            if key != FULL_REFRESH_TAG
        }
        _describe_every_line(engine, "EDITED")
        backfill_run = {**january, BACKFILL_TAG: "abcdefgh"}
        assert job.execute_in_process(instance=instance, resources=resources, tags=backfill_run).success
        assert _descriptions(engine) == [("2010-01-01", "JANUARY"), ("2010-03-01", "EDITED")]


def test_a_span_reaching_the_current_month_is_open_ended_and_wide_spans_are_more_than_two_months():
    """Lines dated in next month (shop time ahead of UTC) have no partition yet: a run of the current month
    must not clip them off. A day's refresh (one or two months) is not wide; a first refresh is."""
    from retail_platform.defs.partitions import MonthSpan, next_month

    current = date.fromisoformat(all_month_keys()[-1])
    last_month = date.fromisoformat(all_month_keys()[-2])
    assert MonthSpan(last_month, next_month(current), False).params == {
        "month_start": last_month.isoformat(),
        "month_end": "infinity",
    }
    assert MonthSpan(date(2010, 1, 1), date(2010, 3, 1), False).params["month_end"] == "2010-03-01"
    assert not MonthSpan(date(2010, 1, 1), date(2010, 3, 1), False).wide
    assert MonthSpan(date(2010, 1, 1), date(2010, 4, 1), False).wide
    assert MonthSpan(date(2010, 1, 1), date(2010, 2, 1), True).wide
