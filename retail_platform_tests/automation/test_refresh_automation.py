"""The downstream refresh after loads, tick by tick on a real warehouse: one run per burst of loads (never while
a load is queued or running), for the months the ledger says the loads touched plus the months depending on
them, the watermark moving only when that run succeeded, retries after a failure; the schedule and the jobs."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import dagster as dg
from dagster._core.test_utils import create_run_for_test
from sqlalchemy import Engine

from retail_platform.definitions import defs
from retail_platform.defs.automation import refresh
from retail_platform.defs.automation.schedules import weekly_full_refresh_schedule
from retail_platform.defs.partitions import every_month_tags
from retail_platform.defs.resources import WarehouseResource
from retail_platform.defs.sql_assets import rebuild_table
from retail_platform.ingestion.loader import load_file
from retail_platform_tests.helpers import line, write_csv

START, END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class Ticker:
    def __init__(self, instance: dg.DagsterInstance, database_url: str) -> None:
        self.instance = instance
        self.warehouse = WarehouseResource(url=database_url)
        self.cursor: str | None = None

    def __call__(self, now: float | None = None):
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor)
        result = refresh.evaluate(context, self.warehouse, now=now)
        if isinstance(result, dg.SensorResult):
            self.cursor = result.cursor or self.cursor
        return result

    def request(self, now: float | None = None) -> dg.RunRequest:
        result = self()
        assert isinstance(result, dg.SensorResult) and result.run_requests, _reason(result)
        (request,) = result.run_requests
        return request


def _reason(result) -> str:
    if isinstance(result, dg.SkipReason):
        return result.skip_message
    assert not result.run_requests, result.run_requests
    return result.skip_reason.skip_message


def _load(engine: Engine, folder: Path, name: str, *lines: list[str], run_id: str | None = None) -> int:
    return load_file(engine, write_csv(folder / name, lines), run_id=run_id, progress=lambda _m: None).load_id


def _ran(instance: dg.DagsterInstance, request: dg.RunRequest, status: dg.DagsterRunStatus):
    return create_run_for_test(instance, job_name="refresh_marts_job", status=status, tags=request.tags)


def test_one_refresh_for_the_months_touched_then_only_what_came_since(database_url, engine, tmp_path):
    with dg.instance_for_test() as instance:
        tick = Ticker(instance, database_url)
        assert "nothing loaded since load 0" in _reason(tick())
        _load(engine, tmp_path, "a.csv", line(invoice="1", date="2010-03-02 10:00:00"))
        _load(engine, tmp_path, "b.csv", line(invoice="2", date="2010-05-02 10:00:00"))
        request = tick.request()
        # the touched months, the month after the last (its growth), and the months between
        assert (request.tags[START], request.tags[END]) == ("2010-03-01", "2010-06-01")
        assert request.tags["retail/trigger"] == "downstream_refresh" and request.run_key == "refresh:0-2#1"
        assert request.job_name in (None, "refresh_marts_job")
        # the run is in flight: nothing more is requested
        running = _ran(instance, request, dg.DagsterRunStatus.STARTED)
        assert "is started" in _reason(tick())
        instance.report_run_failed(running)
        instance.delete_run(running.run_id)
        _ran(instance, request, dg.DagsterRunStatus.SUCCESS)
        assert "nothing loaded since load 2" in _reason(tick())
        assert json.loads(tick.cursor)["done"] == 2

        _load(engine, tmp_path, "c.csv", line(invoice="3", date="2010-08-09 10:00:00"))
        again = tick.request()
        assert (again.tags[START], again.tags[END], again.run_key) == (
            "2010-08-01",
            "2010-09-01",
            "refresh:2-3#1",
        )


def test_a_burst_of_loads_waits_for_the_last_load(database_url, engine, tmp_path):
    with dg.instance_for_test() as instance:
        tick = Ticker(instance, database_url)
        _load(engine, tmp_path, "a.csv", line(invoice="1"))
        loading = create_run_for_test(instance, job_name="load_file_job", status=dg.DagsterRunStatus.STARTED)
        assert "waiting for load_file_job" in _reason(tick())
        _load(engine, tmp_path, "b.csv", line(invoice="2", date="2010-02-01 09:00:00"))
        instance.report_run_failed(loading)
        request = tick.request()
        assert request.tags["retail/refresh_upto_load"] == "2"


def test_a_failed_refresh_is_retried_after_a_backoff_with_the_loads_since(database_url, engine, tmp_path):
    with dg.instance_for_test() as instance:
        tick = Ticker(instance, database_url)
        _load(engine, tmp_path, "a.csv", line(invoice="1"))
        first = tick.request()
        failed = _ran(instance, first, dg.DagsterRunStatus.FAILURE)
        _load(engine, tmp_path, "b.csv", line(invoice="2", date="2011-01-03 09:00:00"))
        assert "retry 2 in" in _reason(tick())
        ended = instance.get_run_record_by_id(failed.run_id).end_time or datetime.datetime.now().timestamp()
        result = tick(now=ended + 3600)
        (retry,) = result.run_requests
        assert retry.run_key == "refresh:0-2#2" and retry.tags[END] == "2011-02-01"


def test_loads_of_a_full_refresh_and_loads_that_inserted_nothing_need_no_refresh(
    database_url, engine, tmp_path
):
    with dg.instance_for_test() as instance:
        tick = Ticker(instance, database_url)
        full = create_run_for_test(  # a real run carries its job's tags: every month
            instance, job_name="full_refresh_job", status=dg.DagsterRunStatus.SUCCESS, tags=every_month_tags()
        )
        _load(engine, tmp_path, "a.csv", line(invoice="1"), run_id=full.run_id)
        assert "nothing loaded since load 0" in _reason(tick())
        (tmp_path / "copy.csv").write_bytes((tmp_path / "a.csv").read_bytes())  # a duplicate: no line
        load_file(engine, tmp_path / "copy.csv", progress=lambda _m: None)
        assert "inserted no line" in _reason(tick())
        assert json.loads(tick.cursor)["done"] == 2


def test_loads_of_one_run_of_a_full_refresh_backfill_are_refreshed(database_url, engine, tmp_path):
    """A backfill of full_refresh_job from the job's page: each run loads what is waiting but rebuilds only
    its months, so its loads still need the refresh of the months they touched."""
    with dg.instance_for_test() as instance:
        tick = Ticker(instance, database_url)
        tags = {**every_month_tags(), "dagster/backfill": "abcdefgh"}
        run = create_run_for_test(
            instance, job_name="full_refresh_job", status=dg.DagsterRunStatus.SUCCESS, tags=tags
        )
        _load(engine, tmp_path, "a.csv", line(invoice="1", date="2010-03-04 10:00:00"), run_id=run.run_id)
        request = tick.request()
        assert request.tags["dagster/asset_partition_range_start"] == "2010-03-01"


def test_a_late_line_that_moves_a_customers_first_month_widens_the_range(database_url, engine, tmp_path):
    """Customer 77's first month was 2010-09; a late line in 2010-02 makes them new in February and existing
    in September, so September's KPIs depend on the load too."""
    with dg.instance_for_test() as instance:
        tick = Ticker(instance, database_url)
        _load(engine, tmp_path, "a.csv", line(invoice="1", date="2010-01-04 10:00:00", customer=5))
        _load(engine, tmp_path, "b.csv", line(invoice="2", date="2010-09-06 10:00:00", customer=77))
        rebuild_table(engine, "clean.order_lines")
        rebuild_table(engine, "marts.monthly_kpis")
        _ran(instance, tick.request(), dg.DagsterRunStatus.SUCCESS)
        assert "nothing loaded" in _reason(tick())
        _load(engine, tmp_path, "late.csv", line(invoice="3", date="2010-02-08 10:00:00", customer=77))
        request = tick.request()
        assert (request.tags[START], request.tags[END]) == ("2010-02-01", "2010-09-01")


def test_the_refresh_run_request_is_valid_for_the_job():
    job = defs.resolve_job_def("refresh_marts_job")
    assert job.partitions_def is not None  # the monthly assets are in it
    assert refresh.downstream_refresh_sensor.job_name == "refresh_marts_job"
    assert refresh.downstream_refresh_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_weekly_schedule_runs_the_full_refresh_over_every_month_and_spares_files_still_being_written():
    assert weekly_full_refresh_schedule.job_name == "full_refresh_job"
    assert weekly_full_refresh_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime.datetime(2026, 1, 5, 3, 0, tzinfo=datetime.UTC),
        )
        request = weekly_full_refresh_schedule.evaluate_tick(context).run_requests[0]
    assert request.run_key == "weekly_full_refresh:2026-01-05"
    assert request.run_config["ops"]["raw_transactions"]["config"]["min_file_age_seconds"] == 300
    assert request.tags["retail/full_refresh"] == "1"  # every month that holds data, rebuilt and recorded
    dg.validate_run_config(defs.resolve_job_def("full_refresh_job"), request.run_config)


def test_the_on_demand_jobs_exist():
    names = {job.name for job in defs.resolve_all_job_defs()}
    assert {"full_refresh_job", "load_file_job", "shop_extract_job", "refresh_marts_job"} <= names
