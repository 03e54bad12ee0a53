"""The code location: every asset, job and resource of the retail platform."""

import dagster as dg

from retail_platform.defs.automation.jobs import full_refresh_job
from retail_platform.defs.charts import assets as chart_assets
from retail_platform.defs.cleaning import assets as cleaning_assets
from retail_platform.defs.ingestion import assets as ingestion_assets
from retail_platform.defs.marts import kpis as kpi_assets
from retail_platform.defs.marts import rfm as rfm_assets
from retail_platform.defs.resources import default_resources

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(
        [ingestion_assets, cleaning_assets, kpi_assets, rfm_assets, chart_assets]
    ),
    jobs=[full_refresh_job],
    resources=default_resources(),
    # The graph is a chain of SQL statements on one server: one process avoids seconds of start-up per step
    # on small machines, and the database, not Python, does the parallel work.
    executor=dg.in_process_executor,
)
