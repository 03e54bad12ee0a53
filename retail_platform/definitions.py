"""The code location: every asset, check, job, sensor and resource of the retail platform."""

import dagster as dg

from retail_platform.defs.automation.file_drop import landing_file_sensor
from retail_platform.defs.automation.freshness import stale_assets_sensor, with_freshness_policies
from retail_platform.defs.automation.jobs import (
    full_refresh_job,
    load_file_job,
    refresh_marts_job,
    shop_extract_job,
)
from retail_platform.defs.automation.oltp_sensor import shop_orders_sensor
from retail_platform.defs.automation.refresh import downstream_refresh_sensor, with_refresh_automation
from retail_platform.defs.automation.schedules import weekly_full_refresh_schedule
from retail_platform.defs.automation.sensors import run_failure_alert_sensor
from retail_platform.defs.charts import assets as chart_assets
from retail_platform.defs.checks import charts as chart_checks
from retail_platform.defs.checks import clean as clean_checks
from retail_platform.defs.checks import history as history_checks
from retail_platform.defs.checks import marts as mart_checks
from retail_platform.defs.checks import raw as raw_checks
from retail_platform.defs.cleaning import assets as cleaning_assets
from retail_platform.defs.ingestion import assets as ingestion_assets
from retail_platform.defs.ingestion import oltp_assets
from retail_platform.defs.marts import kpis as kpi_assets
from retail_platform.defs.marts import rfm as rfm_assets
from retail_platform.defs.resources import default_resources

defs = dg.Definitions(
    assets=with_refresh_automation(
        with_freshness_policies(
            dg.load_assets_from_modules(
                [ingestion_assets, oltp_assets, cleaning_assets, kpi_assets, rfm_assets, chart_assets]
            )
        )
    ),
    asset_checks=[
        *dg.load_asset_checks_from_modules([raw_checks, clean_checks, mart_checks]),
        *chart_checks.png_checks,
        *history_checks.schema_change_checks,
        *history_checks.row_drop_checks,
    ],
    jobs=[full_refresh_job, load_file_job, shop_extract_job, refresh_marts_job],
    sensors=[
        run_failure_alert_sensor,
        stale_assets_sensor,
        landing_file_sensor,
        shop_orders_sensor,
        downstream_refresh_sensor,
    ],
    schedules=[weekly_full_refresh_schedule],
    resources=default_resources(),
    # The graph is a chain of SQL statements on one server: one process avoids seconds of start-up per step
    # on small machines, and the database, not Python, does the parallel work.
    executor=dg.in_process_executor,
)
