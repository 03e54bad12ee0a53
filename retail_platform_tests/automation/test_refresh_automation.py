"""The downstream refresh coalesces: the clean layer, the marts and the charts are requested once after a
burst of loads, not once per load, and never while a load is in progress; the schedule and jobs exist."""

from __future__ import annotations

import datetime

import dagster as dg

from retail_platform.definitions import defs
from retail_platform.defs.automation.jobs import DOWNSTREAM
from retail_platform.defs.automation.refresh import REFRESH_AFTER_LOADS, downstream_refresh_sensor
from retail_platform.defs.automation.schedules import weekly_full_refresh_schedule
from retail_platform.defs.ingestion.assets import RAW_TRANSACTIONS
from retail_platform.defs.ingestion.oltp_assets import RAW_SHOP_ORDERS


def _downstream_keys() -> set[dg.AssetKey]:
    return DOWNSTREAM.resolve(defs.resolve_asset_graph())


class Evaluator:
    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self.cursor = None

    def requested(self) -> set[dg.AssetKey]:
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=self.instance, asset_selection=DOWNSTREAM, cursor=self.cursor
        )
        self.cursor = result.cursor
        return {key for key in _downstream_keys() if result.get_num_requested(key)}


def _loaded(instance: dg.DagsterInstance, key: dg.AssetKey = RAW_TRANSACTIONS) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(key))


def test_every_downstream_asset_refreshes_after_loads_and_nothing_else_does():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        condition = graph.get(key).automation_condition
        if key in _downstream_keys():
            assert condition == REFRESH_AFTER_LOADS, key
        else:
            assert condition is None, key  # raw assets are loaded by the sensors, never by automation
    assert downstream_refresh_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_one_refresh_after_a_load_even_when_the_shop_extract_never_ran():
    with dg.instance_for_test() as instance:
        evaluator = Evaluator(instance)
        assert evaluator.requested() == set()
        _loaded(instance)  # raw/shop_orders was never materialized: must not hold the refresh back
        assert evaluator.requested() == _downstream_keys()
        assert evaluator.requested() == set()  # handled: not requested again


def test_a_burst_of_loads_is_coalesced_into_one_refresh_after_it():
    with dg.instance_for_test() as instance:
        evaluator = Evaluator(instance)
        assert evaluator.requested() == set()  # the sensor's first tick: it tracks updates from here on
        _loaded(instance)
        assert evaluator.requested() == _downstream_keys()
        load_job = defs.resolve_job_def("load_file_job")
        for _ in range(5):  # loads finish while the next one is already queued
            queued = instance.create_run_for_job(load_job, run_config={}, status=dg.DagsterRunStatus.STARTED)
            _loaded(instance)
            assert evaluator.requested() == set(), "refreshed while a load was in progress"
            instance.report_run_failed(queued)
        _loaded(instance, RAW_SHOP_ORDERS)  # and an extract of the shop
        assert evaluator.requested() == _downstream_keys()
        assert evaluator.requested() == set()


def test_the_weekly_schedule_runs_the_full_refresh_and_spares_files_still_being_written():
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
    dg.validate_run_config(defs.resolve_job_def("full_refresh_job"), request.run_config)


def test_the_on_demand_jobs_exist():
    names = {job.name for job in defs.resolve_all_job_defs()}
    assert {"full_refresh_job", "load_file_job", "shop_extract_job", "refresh_marts_job"} <= names
