"""The weekly full refresh and the daily refit of the models. The weekly full refresh: ``full_refresh_job`` (every file waiting, the shop's new orders, then every table,
chart and check) early on Monday, shop time, so that every segment is current for the week even when
nothing new arrived (``RETAIL_FULL_REFRESH_CRON`` changes when; the on-demand full refresh is the same job,
launched from the UI or by ``retail-platform run``).

The scheduled run leaves alone landing files modified in the last five minutes (a producer may still be
writing them in place; the file-drop sensor loads them once they are complete), and a tick is skipped while
another full refresh is still running.

``daily_predictions_schedule`` runs ``predictions_job`` every day (``RETAIL_PREDICTIONS_CRON``, 04:30 shop
time): the models are refitted daily and by the full refresh, not after every drop (README, *Incremental
refresh*); a tick is skipped while a full refresh or the previous refit still runs.
"""

import dagster as dg

from retail_platform.defs.automation.jobs import full_refresh_job, predictions_job
from retail_platform.defs.automation.retries import unfinished_runs
from retail_platform.defs.partitions import every_month_tags
from retail_platform.settings import current_settings

CRON = current_settings().full_refresh_cron
PREDICTIONS_CRON = current_settings().predictions_cron
TIMEZONE = "Europe/London"
RECENT_FILE_SECONDS = 300


def _shop_schedule(job: dg.JobDefinition, cron: str, description: str):
    """A schedule of ``job`` in shop time, running as soon as the code is deployed (named as its function)."""
    return dg.schedule(
        job=job,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )


def _scheduled_request(
    context: dg.ScheduleEvaluationContext,
    trigger: str,
    waits_for: tuple[dg.JobDefinition, ...],
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
) -> dg.RunRequest | dg.SkipReason:
    """The tick's run (run key: the trigger and the scheduled day; tag ``retail/trigger``: the trigger), or a
    skip while a run of any job of ``waits_for`` is unfinished."""
    for job in waits_for:
        running = unfinished_runs(context.instance, job.name, limit=1)
        if running:
            return dg.SkipReason(f"{job.name} is still running (run {running[0].dagster_run.run_id[:8]})")
    scheduled = context.scheduled_execution_time
    return dg.RunRequest(
        run_key=f"{trigger}:{scheduled:%Y-%m-%d}" if scheduled else None,
        run_config=run_config,
        tags={"retail/trigger": trigger, **(tags or {})},
    )


@_shop_schedule(
    full_refresh_job,
    CRON,
    f"Full refresh every week ({CRON}, {TIMEZONE}): loads what is waiting, rebuilds every table and chart, "
    "runs every check.",
)
def weekly_full_refresh_schedule(context: dg.ScheduleEvaluationContext):
    return _scheduled_request(
        context,
        "weekly_full_refresh",
        waits_for=(full_refresh_job,),
        run_config={"ops": {"raw_transactions": {"config": {"min_file_age_seconds": RECENT_FILE_SECONDS}}}},
        tags=every_month_tags(),
    )


@_shop_schedule(
    predictions_job,
    PREDICTIONS_CRON,
    f"Refits the models daily ({PREDICTIONS_CRON}, {TIMEZONE}): lifetime value and churn risk, recommendations, "
    "next best actions and their evaluations, from the marts as the incremental refreshes left them (the "
    "refresh after a drop does not refit them).",
)
def daily_predictions_schedule(context: dg.ScheduleEvaluationContext):
    # the full refresh refits the models too
    return _scheduled_request(context, "daily_predictions", waits_for=(full_refresh_job, predictions_job))
