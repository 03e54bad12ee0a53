"""Run-failure alerting: every failed run becomes an ERROR alert in ops.alerts (and on the webhook)."""

import dagster as dg

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.resources import WarehouseResource
from retail_platform.monitoring.alerts import Alert


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in ops.alerts and posts it to RETAIL_ALERT_WEBHOOK_URL.",
)
def run_failure_alert_sensor(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, alerting: AlertingResource
) -> None:
    run = context.dagster_run
    error = context.failure_event.message or "run failed"
    failed_steps = [event.step_key for event in context.get_step_failure_events() if event.step_key]
    message = (
        f"run {run.run_id[:8]} of {run.job_name} failed"
        + (f" in {', '.join(failed_steps)}" if failed_steps else "")
        + f": {error}"
    )
    alerting.raise_alert(
        warehouse.get_engine(),
        Alert(
            kind="run_failure",
            severity="ERROR",
            message=message[:2000],
            run_id=run.run_id,
            ui_url=alerting.link(run_id=run.run_id),
        ),
    )
