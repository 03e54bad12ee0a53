"""Jobs. ``full_refresh_job`` is the product's main job: load the landing folder, rebuild every table and
chart, run every check. It is also the on-demand full refresh (launch it from the UI, or ``retail-platform
run``) and what the weekly schedule runs.

The event-driven jobs: ``load_file_job`` loads one landing file (the file-drop sensor requests one run per
ready file, naming it in the run config), ``shop_extract_job`` extracts the shop's new orders (requested by
the shop sensor), ``refresh_marts_job`` rebuilds the clean layer, the marts and the charts without loading
anything (what the downstream refresh does after loads; here on demand), ``predictions_job`` refits the
models (the daily schedule).
"""

import dagster as dg

from retail_platform.defs.ingestion.assets import RAW_FILE_LOADS, RAW_REJECTED_LINES, RAW_TRANSACTIONS
from retail_platform.defs.ingestion.oltp_assets import RAW_SHOP_ORDERS
from retail_platform.defs.partitions import every_month_tags
from retail_platform.defs.predictions.checks import PREDICTION_MARTS

# Both jobs hold monthly partitions; Dagster 1.13 cannot run a partitioned asset that reads another partitioned
# asset in a run without partitions, so a run launched without choosing months (the launchpad, a test, the CLI)
# covers every month, as a full refresh always did. Sensors and backfills name their own months.
EVERY_MONTH = every_month_tags()

full_refresh_job = dg.define_asset_job(
    "full_refresh_job",
    selection=dg.AssetSelection.all(),
    description="Load every file waiting in the landing folder and the shop's new orders, then rebuild the "
    "clean layer, the marts and the charts (every month).",
    tags=EVERY_MONTH,
)

load_file_job = dg.define_asset_job(
    "load_file_job",
    selection=dg.AssetSelection.assets(RAW_TRANSACTIONS, RAW_FILE_LOADS, RAW_REJECTED_LINES),
    description="Load the landing files named in the config (ops.raw_transactions.config.files); the "
    "file-drop sensor runs it once per ready file. Re-execute a run to retry its file.",
)

shop_extract_job = dg.define_asset_job(
    "shop_extract_job",
    selection=dg.AssetSelection.assets(RAW_SHOP_ORDERS),
    description="Extract the orders written in the shop's OLTP database since the high-water mark.",
)

DOWNSTREAM = dg.AssetSelection.groups("clean", "marts", "charts")
# The models (CLV fit, recommendations, next best actions, their evaluations and chart): refitted daily and by
# the full refresh, not after every drop (README, *Incremental refresh*).
PREDICTIONS = dg.AssetSelection.assets(*PREDICTION_MARTS).downstream()

refresh_marts_job = dg.define_asset_job(
    "refresh_marts_job",
    selection=DOWNSTREAM - PREDICTIONS,
    description="Rebuild the clean layer, the marts and the charts from what is loaded, without loading: the "
    "months of the run (every month by default; the refresh after loads names the months the loads touched). "
    "The predictions are not in it: predictions_job refits them daily, the full refresh too.",
    tags=EVERY_MONTH,
)

predictions_job = dg.define_asset_job(
    "predictions_job",
    selection=PREDICTIONS,
    description="Refit the models from the marts and facts as they stand: lifetime value and churn risk, "
    "recommendations, next best actions, their evaluations and chart (the daily schedule runs it).",
)
