"""The analysis notebook asset, executed on the generated warehouse: every cell ran, the HTML sits beside the
charts and its figures are the marts'."""

from __future__ import annotations

from pathlib import Path

import nbformat

from retail_platform.dashboard import formatting as fmt
from retail_platform.defs.notebooks.runner import packaged_notebook
from retail_platform_tests.dashboard.conftest import BuiltWarehouse


def test_the_notebook_ran_every_cell_and_rendered_html_beside_the_charts(built: BuiltWarehouse):
    metadata = built.materialized["notebooks/analysis"]
    html = Path(metadata["html"].value)
    executed = Path(metadata["notebook"].value)
    assert html.parent == built.paths.charts and html.suffix == ".html"
    assert metadata["open"].value == html.as_uri()

    notebook = nbformat.read(executed, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert metadata["code_cells"].value == len(code)
    assert all(cell.execution_count for cell in code), "a cell did not run"
    assert not [out for cell in code for out in cell.outputs if out.output_type == "error"]
    images = [out for cell in code for out in cell.outputs if "image/png" in out.get("data", {})]
    assert len(images) >= 5  # amounts, orders, sales and growth, customers, segments

    body = html.read_text(encoding="utf-8")
    assert body.count("data:image/png;base64,") >= 5
    kpis = built.frame(
        "SELECT sum(net_sales) AS sales, sum(placed_orders) AS placed FROM marts.monthly_kpis"
    ).iloc[0]
    summary = metadata["summary"].value
    assert f"net sales {fmt.money(kpis['sales'])}" in summary
    assert f"{fmt.count(kpis['placed'])} placed orders" in summary
    assert fmt.money(kpis["sales"]) in body


def test_the_shipped_notebook_has_no_outputs_and_no_url():
    notebook = nbformat.read(packaged_notebook(), as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1 and "warehouse_url = None" in parameters[0].source
