"""The chart PNG checks and the checks that compare with the previous materialization."""

import dagster as dg
import nbformat
import pytest

from retail_platform.defs.charts.assets import CHARTS
from retail_platform.defs.checks.charts import png_problem

MONTHLY_KPIS = dg.AssetKey(["marts", "monthly_kpis"])


@pytest.mark.parametrize("damage", ["missing", "empty", "not_png", "truncated"])
def test_png_check_passes_on_the_rendered_chart_and_fails_when_damaged(warehouse, damage):
    chart = CHARTS[0].key
    key = dg.AssetCheckKey(chart, "png_valid")
    assert warehouse.run_check(key).passed

    path = warehouse.home / "charts" / f"{chart.path[-1]}.png"
    data = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "not_png":
        path.write_text("<html>not an image</html>")
    else:
        path.write_bytes(data[: len(data) // 2])
    evaluation = warehouse.run_check(key)
    assert not evaluation.passed
    assert evaluation.severity.value == "ERROR"


def test_png_problem_accepts_every_rendered_chart(warehouse):
    for chart in CHARTS:
        assert png_problem(warehouse.home / "charts" / f"{chart.key.path[-1]}.png") is None


def _report(instance: dg.DagsterInstance, rows: int, columns: list[str]) -> None:
    schema = dg.TableSchema(columns=[dg.TableColumn(name, "integer") for name in columns])
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            MONTHLY_KPIS,
            metadata={"dagster/row_count": dg.MetadataValue.int(rows), "dagster/column_schema": schema},
        )
    )


def test_row_count_drop_warns_only_beyond_the_threshold(warehouse):
    key = dg.AssetCheckKey(MONTHLY_KPIS, "row_count_drop")
    instance = dg.DagsterInstance.ephemeral()
    assert warehouse.run_check(key, instance).passed  # no history: nothing to compare

    _report(instance, 100, ["month"])
    _report(instance, 60, ["month"])  # 40% fewer: within the default 50%
    assert warehouse.run_check(key, instance).passed

    _report(instance, 10, ["month"])  # 83% fewer
    evaluation = warehouse.run_check(key, instance)
    assert not evaluation.passed
    assert evaluation.severity.value == "WARN"
    assert (
        evaluation.metadata["previous_rows"].value == 60 and evaluation.metadata["current_rows"].value == 10
    )


def test_row_count_drop_looks_past_the_month_records_of_a_full_refresh(warehouse):
    key = dg.AssetCheckKey(MONTHLY_KPIS, "row_count_drop")
    instance = dg.DagsterInstance.ephemeral()
    _report(instance, 100, ["month"])
    for month in ["2010-01-01", "2010-02-01", "2010-03-01"]:  # what record_data_months adds: no row count
        instance.report_runless_asset_event(
            dg.AssetMaterialization(MONTHLY_KPIS, partition=month, metadata={"this_run/months": "every"})
        )
    _report(instance, 10, ["month"])
    evaluation = warehouse.run_check(key, instance)
    assert not evaluation.passed
    assert evaluation.metadata["previous_rows"].value == 100


def test_column_schema_change_check_notices_a_changed_mart(warehouse):
    key = dg.AssetCheckKey(MONTHLY_KPIS, "column_schema_change")
    instance = dg.DagsterInstance.ephemeral()
    _report(instance, 12, ["month", "net_sales"])
    _report(instance, 12, ["month", "net_sales"])
    assert warehouse.run_check(key, instance).passed
    _report(instance, 12, ["month", "gross_sales"])
    assert not warehouse.run_check(key, instance).passed


@pytest.mark.parametrize("damage", ["missing_html", "empty_html", "failed_cell", "unreadable"])
def test_notebook_check_passes_on_the_rendered_notebook_and_fails_when_damaged(warehouse, damage):
    key = dg.AssetCheckKey(dg.AssetKey(["notebooks", "analysis"]), "notebook_rendered")
    assert warehouse.run_check(key).passed

    charts = warehouse.home / "charts"
    if damage == "missing_html":
        (charts / "analysis.html").unlink()
    elif damage == "empty_html":
        (charts / "analysis.html").write_bytes(b"")
    elif damage == "failed_cell":
        notebook = nbformat.read(charts / "analysis.ipynb", as_version=4)
        cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
        cell.outputs.append(
            nbformat.v4.new_output("error", ename="KeyError", evalue="'net_sales'", traceback=[])
        )
        nbformat.write(notebook, charts / "analysis.ipynb")
    else:
        (charts / "analysis.ipynb").write_text("{not json")
    evaluation = warehouse.run_check(key)
    assert not evaluation.passed
    assert evaluation.severity.value == "ERROR"
    if damage == "failed_cell":
        assert "KeyError" in evaluation.metadata["details"].value
