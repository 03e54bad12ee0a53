"""The shop sensor: when the shop's OLTP database has orders the warehouse has not seen, run the extract.

Every ``RETAIL_OLTP_SENSOR_INTERVAL_SECONDS`` (default 10 s: one indexed count on the shop database) it counts the orders written since the
high-water mark (read-only, an index range on the change transaction ids) and requests ``shop_extract_job``
when there are any. One extract at a time: it waits while an extract (or a full refresh, which extracts too)
is queued or running, so orders arriving meanwhile are picked up by the next one. The run key is the mark the
extract starts from plus an attempt number (``retries.py``): a failed extract is retried after a backoff, and
an extract is never requested twice from the same mark once it succeeded (the mark moves on).
"""

from __future__ import annotations

import time

import dagster as dg

from retail_platform.defs.automation.jobs import full_refresh_job, shop_extract_job
from retail_platform.defs.automation.retries import decide, history, unfinished_runs
from retail_platform.defs.automation.sensor_policy import running_sensor
from retail_platform.defs.resources import ShopDatabaseResource, WarehouseResource
from retail_platform.oltp.connection import database_exists, schema_applied
from retail_platform.oltp.extract import pending_changes
from retail_platform.settings import current_settings

SETTINGS = current_settings().shop_sensor
TAG_EXTRACT = "retail/extract_from"


def evaluate(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    shop: ShopDatabaseResource,
    *,
    now: float | None = None,
    max_attempts: int = SETTINGS.max_attempts,
):
    now = time.time() if now is None else now
    source = shop.source(warehouse)
    if not source.explicit and not database_exists(source.url):
        return dg.SkipReason(
            f"no shop database at {source.describe()} yet: `retail-platform simulate-shop --orders N` creates "
            "one, or set RETAIL_OLTP_URL to the shop's database"
        )
    engine = shop.get_engine(warehouse)
    if not schema_applied(engine):
        return dg.SkipReason(f"{source.describe()} has no shop schema (shop.orders) yet")
    for job in (shop_extract_job, full_refresh_job):
        running = unfinished_runs(context.instance, job.name, limit=1)
        if running:
            return dg.SkipReason(
                f"waiting for run {running[0].dagster_run.run_id[:8]} of {job.name}, which extracts the shop"
            )
    pending = pending_changes(engine, warehouse.get_engine())
    if not pending.orders:
        return dg.SkipReason(f"no new or changed orders in {source.describe()} since the mark {pending.mark}")
    start = pending.mark or "beginning"
    decision = decide(history(context.instance, TAG_EXTRACT, start), now, max_attempts)
    count = f"{pending.orders:,}{'+' if pending.capped else ''} order(s)"
    if decision.action != "request":
        return dg.SkipReason(f"{count} to extract, but: {decision.reason}")
    context.log.info(
        f"{count} written since the mark {start}"
        + (f" ({pending.reset_reason})" if pending.reset_reason else "")
        + (f"; {decision.reason}" if decision.reason else "")
    )
    return dg.RunRequest(
        run_key=f"shop@{start}#{decision.attempt}",
        tags={TAG_EXTRACT: start, "retail/attempt": str(decision.attempt), "retail/trigger": "shop_orders"},
    )


@running_sensor(
    "shop_orders_sensor",
    job=shop_extract_job,
    interval_seconds=SETTINGS.interval_seconds,
    description="Runs the incremental extract of the shop's OLTP database when it has orders written since "
    "the high-water mark.",
)
def shop_orders_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, shop: ShopDatabaseResource
):
    return evaluate(context, warehouse, shop)
