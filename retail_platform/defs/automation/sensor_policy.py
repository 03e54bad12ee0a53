"""The platform's one sensor policy: every sensor starts running when the code location loads, so a fresh
deployment loads files, extracts orders and refreshes the marts without anyone switching sensors on in the UI
(they can still be stopped there, and Dagster keeps that choice)."""

from collections.abc import Callable
from typing import Any

import dagster as dg


def running_sensor(
    name: str,
    *,
    interval_seconds: float,
    description: str,
    job: Any = None,
) -> Callable[[Callable], dg.SensorDefinition]:
    """``dg.sensor`` with the policy: running by default, evaluated at most every ``interval_seconds``;
    ``job``: what its run requests launch (a job or an asset job of ``define_asset_job``)."""
    return dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=int(interval_seconds),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
    )
