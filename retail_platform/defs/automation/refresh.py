"""Downstream refresh: after loads, the clean layer, the marts and the charts rebuild by themselves.

Declarative automation: every asset in the groups ``clean``, ``marts`` and ``charts`` carries
``REFRESH_AFTER_LOADS``, evaluated by ``downstream_refresh_sensor`` (running by default, every
``RETAIL_REFRESH_INTERVAL_SECONDS``, default 15 s). An asset is requested when one of its parents was
updated since it was last requested, **and no parent is being updated right now**, and it is not in a run
already. Parents requested in the same tick count as updated, so one tick requests the whole chain (clean,
then the marts, then the charts) as one run.

Coalescing: while a burst of files is loading, ``raw/transactions`` is in progress (the file-drop sensor
keeps up to four load runs queued, and they run one at a time), so nothing downstream starts; once the queue
drains, one refresh rebuilds everything from all the loaded files. Every table downstream is rebuilt in full
from ``raw.transactions`` (TRUNCATE and INSERT in one transaction), so the end state is the same as one full
refresh, however many loads came before it. A refresh can start in a gap between loads of a slow trickle of
files; it then runs again after the next loads: at most one refresh per gap, never one per file.

Unlike ``AutomationCondition.eager()`` the condition does not wait for *every* parent to have been
materialized once: ``raw/shop_orders`` may never run when no shop is configured, and that must not hold back
the refresh after file loads.
"""

import dagster as dg

from retail_platform.defs.automation.jobs import DOWNSTREAM
from retail_platform.settings import current_settings

REFRESH_GROUPS = ("clean", "marts", "charts")

REFRESH_AFTER_LOADS = (
    (dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("refresh after loads (coalesced)")


def refresh_condition_for(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The clean, marts and charts assets are refreshed after loads; others unchanged."""
    if spec.group_name in REFRESH_GROUPS:
        return spec.replace_attributes(automation_condition=REFRESH_AFTER_LOADS)
    return spec


downstream_refresh_sensor = dg.AutomationConditionSensorDefinition(
    "downstream_refresh_sensor",
    target=DOWNSTREAM,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=current_settings().refresh_interval_seconds,
    emit_backfills=False,
    run_tags={"retail/trigger": "downstream_refresh"},
    description="Rebuilds the clean layer, the marts and the charts after loads, once per burst of loads "
    "(waits while raw assets are being materialized).",
)
