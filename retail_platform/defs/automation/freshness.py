"""Freshness: policies on the raw and mart assets (evaluated by the daemon, shown in the UI) and a sensor that
turns a stale asset into an alert, and resolves it when the asset is fresh again."""

from datetime import timedelta

import dagster as dg

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.automation.sensor_policy import running_sensor
from retail_platform.defs.predictions.checks import PREDICTION_MARTS
from retail_platform.defs.resources import WarehouseResource
from retail_platform.monitoring.alerts import Alert
from retail_platform.monitoring.health import freshness_status, freshness_window, last_materialization
from retail_platform.settings import CheckSettings


def _window(fail: timedelta) -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=fail * 0.75)


# The models are refitted daily (daily_predictions_schedule) and by the full refresh, not after every drop:
# their window is a day, with two hours' grace for the refit itself.
PREDICTIONS_FRESHNESS = timedelta(hours=26)


def freshness_policy_for(spec: dg.AssetSpec, checks: CheckSettings) -> dg.AssetSpec:
    """The raw assets should be refreshed daily (new drops), the predictions daily (their schedule), the
    other marts at least weekly."""
    if spec.key in PREDICTION_MARTS:
        return dg.apply_freshness_policy(spec, _window(PREDICTIONS_FRESHNESS))
    if spec.key.path[0] == "raw":
        return dg.apply_freshness_policy(spec, _window(checks.raw_freshness))
    if spec.key.path[0] == "marts":
        return dg.apply_freshness_policy(spec, _window(checks.marts_freshness))
    return spec


@running_sensor(
    "stale_assets_sensor",
    interval_seconds=300,
    description="Raises a stale_asset alert for every asset past its freshness window; resolves it when the "
    "asset is fresh again.",
)
def stale_assets_sensor(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alerting: AlertingResource
) -> dg.SkipReason:
    graph = context.repository_def.asset_graph
    engine = warehouse.get_engine()
    stale = []
    for key in graph.get_all_asset_keys():
        window = freshness_window(graph.get(key))
        if window is None:
            continue
        last, _ = last_materialization(context.instance, key)
        status = freshness_status(last, window)
        name = key.to_user_string()
        if status in ("stale", "never"):
            stale.append(name)
            when = f"last materialized {last:%Y-%m-%d %H:%M} UTC" if last else "never materialized"
            alerting.raise_alert(
                engine,
                Alert(
                    kind="stale_asset",
                    severity="WARN" if last is None else "ERROR",
                    message=f"{name} is stale: {when}, window {window}",
                    asset_key=name,
                    ui_url=alerting.link(asset_key=name),
                ),
            )
        else:
            alerting.resolve(engine, kind="stale_asset", asset_key=name)
    return dg.SkipReason(
        f"{len(stale)} stale asset(s): {', '.join(stale)}" if stale else "every asset is fresh"
    )
