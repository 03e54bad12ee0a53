"""The check on the analysis notebook: its HTML was rendered and no cell of the executed notebook failed.

Not blocking: nothing is built from the notebook; a failed cell is an error to look at, not a reason to stop.
"""

from pathlib import Path

import dagster as dg
import nbformat

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.checks.framework import report
from retail_platform.defs.notebooks.assets import analysis_notebook
from retail_platform.defs.notebooks.runner import ANALYSIS_NOTEBOOK
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource


def notebook_problem(executed: Path, html: Path) -> str | None:
    """Why the rendered notebook is not usable, or None: the HTML is missing or empty, the executed notebook
    is missing or unreadable, or one of its cells has an error output (named by its number and error)."""
    if not html.exists() or html.stat().st_size == 0:
        return f"{html} is missing or empty"
    try:
        notebook = nbformat.read(executed, as_version=4)
    except (OSError, ValueError) as error:
        return f"{executed} cannot be read: {error}"
    for number, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {number} failed: {output.get('ename')}: {output.get('evalue')}"
    return None


@dg.asset_check(
    asset=analysis_notebook,
    name="notebook_rendered",
    description="The notebook's HTML exists and is not empty, and no cell of the executed notebook failed.",
)
def notebook_rendered(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    alerting: AlertingResource,
    retail_paths: RetailPathsResource,
) -> dg.AssetCheckResult:
    charts, stem = retail_paths.paths().charts, Path(ANALYSIS_NOTEBOOK).stem  # where run_notebook wrote them
    executed, html = charts / f"{stem}.ipynb", charts / f"{stem}.html"
    problem = notebook_problem(executed, html)
    result = dg.AssetCheckResult(
        passed=problem is None,
        metadata={"html": dg.MetadataValue.path(str(html)), "details": problem or "rendered, no failed cell"},
    )
    return report(context, warehouse, alerting, result)
