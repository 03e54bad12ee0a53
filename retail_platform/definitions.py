"""The code location: every definition under ``defs/``, found by Dagster's autoloader, with one set of
policies applied over every asset spec (as dagster-open-platform applies its global freshness policy).

A new asset, check, job, sensor or schedule module under ``defs/`` is picked up without touching this file.
Resources come from the settings (``settings.py``, the one place that reads the environment); callers that
run jobs in process (the CLI, the tests) pass their own resources to ``execute_in_process``.
"""

from pathlib import Path

import dagster as dg

from retail_platform.defs.automation.freshness import freshness_policy_for
from retail_platform.defs.resources import default_resources
from retail_platform.settings import Settings, current_settings


def _unique(objects) -> list:
    """Each object once: a module that imports another's asset (``from ... import order_lines``) exposes the
    same object again, and the autoloader collects it from both modules."""
    return list({id(obj): obj for obj in objects or []}.values())


def build_defs(settings: Settings) -> dg.Definitions:
    """Everything under ``defs/``, the global policies over every asset spec, and the resources of
    ``settings``."""
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)

    def policies(spec: dg.AssetSpec) -> dg.AssetSpec:
        return freshness_policy_for(spec, settings.checks)

    return dg.Definitions(
        assets=list(dg.map_asset_specs(policies, _unique(loaded.assets))),
        asset_checks=_unique(loaded.asset_checks),
        jobs=_unique(loaded.jobs),
        sensors=_unique(loaded.sensors),
        schedules=_unique(loaded.schedules),
        resources=default_resources(settings),
        # The graph is a chain of SQL statements on one server: one process avoids seconds of start-up per
        # step on small machines, and the database, not Python, does the parallel work.
        executor=dg.in_process_executor,
    )


defs = build_defs(current_settings())
