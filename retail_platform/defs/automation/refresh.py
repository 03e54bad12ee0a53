"""Downstream refresh after loads: the months the loads touched, once per burst (README, *Incremental
refresh*).

``downstream_refresh_sensor`` (running by default, every ``RETAIL_REFRESH_INTERVAL_SECONDS``, default 5 s)
reads the load ledger, not Dagster's asset events: every change to ``raw.transactions`` (file loads and shop
extracts) is a ledger row with the months its lines fell in. Its cursor is the last load id a successful
refresh covered. On a tick:

- while a load, an extract or a full refresh is queued or running, it waits (a burst of loads gives one
  refresh after it), and while a refresh is in flight it waits for it;
- it takes the ledger rows after the watermark (rows written by a full refresh are covered by that run's own
  rebuild), asks ``ingestion.changes.refresh_months`` for the months to rebuild (the touched months and those
  that depend on them: next month's growth, customers' old first months, zero months of a gap), and requests
  one run of ``refresh_marts_job`` for that range of monthly partitions: ``clean/order_lines``,
  ``marts/daily_sales`` and ``marts/monthly_kpis`` rebuild those months (with the compact facts of migration
  018); the unpartitioned marts (read from those facts) and charts after them (the predictions are refitted by
  the daily schedule, not here);
- the watermark moves when that run succeeds. A failed refresh is retried from the same watermark (with any
  loads that came since) after the backoff of ``retries.py``; its run key counts the attempts.

Why not declarative automation any more: an unpartitioned parent (``raw/transactions``) updated makes every
monthly partition of a child "updated", so automation conditions would rebuild all months (and, without
backfills, request a run per month); the ledger knows which months changed.
"""

from __future__ import annotations

import json
import time

import dagster as dg

from retail_platform.defs.automation.jobs import (
    full_refresh_job,
    load_file_job,
    refresh_marts_job,
    shop_extract_job,
)
from retail_platform.defs.automation.retries import decide, history, unfinished_runs
from retail_platform.defs.automation.sensor_policy import running_sensor
from retail_platform.defs.partitions import is_full_refresh, month_range_tags
from retail_platform.defs.resources import WarehouseResource
from retail_platform.ingestion.changes import loads_after, refresh_months
from retail_platform.settings import current_settings

TAG_TRIGGER = "retail/trigger"
TRIGGER = "downstream_refresh"
TAG_FROM = "retail/refresh_after_load"  # the watermark a refresh starts from: attempts share it
TAG_UPTO = "retail/refresh_upto_load"
MAX_ATTEMPTS = 8


def _cursor(text: str | None) -> dict:
    try:
        data = json.loads(text or "{}")
        return {"done": int(data.get("done", 0)), "upto": data.get("upto")}
    except (ValueError, TypeError, AttributeError):
        return {"done": 0, "upto": None}


def evaluate(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, now: float | None = None
) -> dg.SensorResult | dg.SkipReason:
    """One tick (separate from the decorated sensor so tests can set the clock)."""
    now = time.time() if now is None else now
    cursor = _cursor(context.cursor)
    for job in (load_file_job, shop_extract_job, full_refresh_job):
        busy = unfinished_runs(context.instance, job.name, limit=1)
        if busy:
            return dg.SkipReason(
                f"waiting for {job.name} run {busy[0].dagster_run.run_id[:8]}: one refresh after a burst"
            )
    done = cursor["done"]
    runs = history(context.instance, TAG_FROM, str(done))
    decision = decide(runs, now, MAX_ATTEMPTS)
    if runs and runs[0].dagster_run.status == dg.DagsterRunStatus.SUCCESS:
        done = int(runs[0].dagster_run.tags[TAG_UPTO])
        decision = decide(history(context.instance, TAG_FROM, str(done)), now, MAX_ATTEMPTS)
    elif decision.action != "request":
        return dg.SkipReason(f"refresh after load {done}: {decision.reason}")
    engine = warehouse.get_engine()
    loads = [load for load in loads_after(engine, done) if not _by_full_refresh(context, load.run_id)]
    state = json.dumps({"done": done, "upto": None})
    if not loads:
        return dg.SensorResult(skip_reason=f"nothing loaded since load {done}", cursor=state)
    last = max(load.load_id for load in loads)
    months = refresh_months(engine, [load.load_id for load in loads if load.touched])
    if months is None:
        return dg.SensorResult(
            skip_reason=f"loads {done + 1}..{last} inserted no line: nothing to refresh",
            cursor=json.dumps({"done": last, "upto": None}),
        )
    tags = month_range_tags(*months)
    context.log.info(
        f"Refreshing after loads {done + 1}..{last}: months {tags['dagster/asset_partition_range_start']} to "
        f"{tags['dagster/asset_partition_range_end']}"
    )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"refresh:{done}-{last}#{decision.attempt}",
                tags={**tags, TAG_TRIGGER: TRIGGER, TAG_FROM: str(done), TAG_UPTO: str(last)},
            )
        ],
        cursor=json.dumps({"done": done, "upto": last}),
    )


def _by_full_refresh(context: dg.SensorEvaluationContext, run_id: str | None) -> bool:
    """Whether a ledger row was written by a full refresh, whose own steps rebuilt everything after it (not
    by one run of a backfill of ``full_refresh_job``: it loads everything but rebuilds only its months)."""
    if not run_id:
        return False
    run = context.instance.get_run_by_id(run_id)
    return run is not None and run.job_name == full_refresh_job.name and is_full_refresh(run.tags)


@running_sensor(
    "downstream_refresh_sensor",
    job=refresh_marts_job,
    interval_seconds=current_settings().refresh_interval_seconds,
    description="After loads (files or shop extracts), rebuilds the months they touched (and the months that "
    "depend on them) of the monthly assets and facts, then the global marts and charts (the predictions are "
    "refitted daily): one run per burst of loads, read from the load ledger.",
)
def downstream_refresh_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    return evaluate(context, warehouse)
