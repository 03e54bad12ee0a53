"""``notebooks/analysis``: the seed analyses (SPEC §4) as a notebook run on the warehouse after the marts it
reads, rendered to ``$RETAIL_HOME/charts/analysis.html`` and linked from the asset's metadata."""

import time

import dagster as dg

from retail_platform.defs.marts import rfm
from retail_platform.defs.marts.kpis import INVOICE_AMOUNT_STATS, MONTHLY_KPIS
from retail_platform.defs.notebooks.runner import packaged_notebook, run_notebook
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource


@dg.asset(
    key=["notebooks", "analysis"],
    deps=[INVOICE_AMOUNT_STATS.key, MONTHLY_KPIS.key, rfm.rfm_scores.key, rfm.rfm_segments.key],
    group_name="notebooks",
    kinds={"jupyter", "html"},
)
def analysis_notebook(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, retail_paths: RetailPathsResource
) -> dg.MaterializeResult:
    """The analysis notebook (retail_platform/notebooks/analysis.ipynb): invoice amounts with and without
    outliers, monthly placed and canceled orders, sales and growth, active / new / existing customers and RFM
    segments, read from the marts as retail_reader; executed and rendered to HTML beside the charts."""
    paths = retail_paths.paths()
    started = time.perf_counter()
    env = {"RETAIL_WAREHOUSE_URL": warehouse.get_url(), "RETAIL_HOME": str(paths.home)}
    rendered = run_notebook(packaged_notebook(), paths.charts, env)
    seconds = time.perf_counter() - started
    context.log.info(f"Executed {rendered.code_cells} code cells in {seconds:.1f} s; wrote {rendered.html}")
    return dg.MaterializeResult(
        metadata={
            "html": dg.MetadataValue.path(str(rendered.html)),
            "open": dg.MetadataValue.url(rendered.html.as_uri()),
            "notebook": dg.MetadataValue.notebook(str(rendered.executed)),
            "code_cells": dg.MetadataValue.int(rendered.code_cells),
            "seconds": dg.MetadataValue.float(round(seconds, 1)),
            "summary": dg.MetadataValue.md(rendered.summary or "(no summary)"),
        }
    )
