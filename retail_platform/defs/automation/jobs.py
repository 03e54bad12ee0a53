"""Jobs. ``full_refresh_job`` is the product's main job: load the landing folder, rebuild every table and
chart, run every check."""

import dagster as dg

full_refresh_job = dg.define_asset_job(
    "full_refresh_job",
    selection=dg.AssetSelection.all(),
    description="Load every file waiting in the landing folder, then rebuild the clean layer, the marts and "
    "the charts.",
)
