"""The models are refitted daily and by the full refresh, not by the refresh after every drop (README,
*Incremental refresh*): the jobs' selections, the daily schedule and the freshness windows that say so."""

from __future__ import annotations

import datetime

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from retail_platform.definitions import defs
from retail_platform.defs.automation.freshness import PREDICTIONS_FRESHNESS
from retail_platform.defs.automation.schedules import daily_predictions_schedule
from retail_platform.defs.predictions.checks import PREDICTION_MARTS
from retail_platform.monitoring.health import freshness_window

PREDICTION_CHART = dg.AssetKey(["charts", "clv_purchases_by_decile"])


def _selected(job_name: str) -> set[dg.AssetKey]:
    return set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


def test_the_refresh_after_drops_leaves_the_models_out_and_the_other_jobs_refit_them():
    refresh = _selected("refresh_marts_job")
    predictions = _selected("predictions_job")
    assert not refresh & {*PREDICTION_MARTS, PREDICTION_CHART}
    assert predictions == {*PREDICTION_MARTS, PREDICTION_CHART}
    assert predictions <= _selected("full_refresh_job")
    # what the models read is still refreshed after every drop
    for key in (["clean", "order_lines"], ["marts", "rfm_scores"], ["marts", "top_products"]):
        assert dg.AssetKey(key) in refresh


def _tick(instance: dg.DagsterInstance):
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime.datetime(2026, 1, 6, 4, 30, tzinfo=datetime.UTC),
    )
    return daily_predictions_schedule.evaluate_tick(context)


def test_the_daily_schedule_requests_one_refit_per_day():
    assert daily_predictions_schedule.job_name == "predictions_job"
    assert daily_predictions_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert daily_predictions_schedule.cron_schedule == "30 4 * * *"
    with dg.instance_for_test() as instance:
        (request,) = _tick(instance).run_requests
    assert request.run_key == "daily_predictions:2026-01-06"
    assert request.tags["retail/trigger"] == "daily_predictions"
    dg.validate_run_config(defs.resolve_job_def("predictions_job"), request.run_config)


def test_the_daily_schedule_waits_for_a_running_full_refresh_or_refit():
    for job_name in ("full_refresh_job", "predictions_job"):
        with dg.instance_for_test() as instance:
            create_run_for_test(instance, job_name=job_name, status=dg.DagsterRunStatus.STARTED)
            result = _tick(instance)
        assert not result.run_requests
        assert job_name in result.skip_message


def test_the_freshness_windows_say_daily_for_the_models_weekly_for_the_marts():
    graph = defs.resolve_asset_graph()
    for key in PREDICTION_MARTS:
        assert freshness_window(graph.get(key)) == PREDICTIONS_FRESHNESS == datetime.timedelta(hours=26)
    assert freshness_window(graph.get(dg.AssetKey(["marts", "rfm_scores"]))) > datetime.timedelta(days=7)
