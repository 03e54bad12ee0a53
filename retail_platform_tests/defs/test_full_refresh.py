"""The whole asset graph materializes against real PostgreSQL from a generated drop, and re-materializing
with the same data dropped again changes nothing."""

from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from retail_platform.definitions import defs
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.sample_data import write_sample

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _materialize(database_url: str, home: Path) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("full_refresh_job")
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(url=database_url),
            "retail_paths": RetailPathsResource(home=str(home)),
        },
    )


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
        for event in result.all_events
        if event.is_step_materialization
    }


@pytest.fixture
def drop(paths) -> Path:
    path = paths.landing / "drop.csv"
    write_sample(path, 4_000, seed=7)
    return path


def test_full_refresh_materializes_every_asset(database_url, engine, paths, drop):
    result = _materialize(database_url, paths.home)
    assert result.success
    materialized = _materializations(result)
    assert set(materialized) == {
        key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
    }

    with engine.connect() as conn:
        for key, metadata in materialized.items():
            if key.startswith(("charts/", "notebooks/")):  # files, not tables
                continue
            table = key.replace("/", ".")
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert metadata["dagster/row_count"].value == rows, key
            assert metadata["dagster/column_schema"].value.columns, key
            assert "preview" in metadata, key
        lines = conn.execute(text("SELECT count(*) FROM raw.transactions")).scalar_one()
        kpi_total = conn.execute(text("SELECT sum(net_sales) FROM marts.monthly_kpis")).scalar_one()
        clean_total = conn.execute(text("SELECT sum(amount) FROM clean.order_lines")).scalar_one()
        customers = conn.execute(text("SELECT count(*) FROM marts.rfm_scores")).scalar_one()
        segment_sum = conn.execute(text("SELECT sum(customers) FROM marts.rfm_segments")).scalar_one()

    assert lines == 4_000
    assert kpi_total == clean_total
    assert customers > 0 and segment_sum == customers

    charts = {key: meta for key, meta in materialized.items() if key.startswith("charts/")}
    for key, metadata in charts.items():
        png = Path(metadata["path"].value)
        assert png.parent == paths.charts
        assert png.read_bytes()[:8] == PNG_SIGNATURE, key
        assert "data:image/png;base64," in metadata["chart"].value
    assert (paths.archive / "drop.csv").exists()
    assert not any(paths.landing.iterdir())


def test_redrop_under_another_name_changes_nothing(database_url, engine, paths, drop):
    assert _materialize(database_url, paths.home).success
    with engine.connect() as conn:
        before = conn.execute(text("SELECT * FROM marts.monthly_kpis ORDER BY month")).all()
        scores_before = conn.execute(text("SELECT * FROM marts.rfm_scores ORDER BY customer_id")).all()
    (paths.archive / "drop.csv").rename(paths.landing / "drop_again.csv")

    result = _materialize(database_url, paths.home)

    assert result.success
    raw_meta = _materializations(result)["raw/transactions"]
    assert raw_meta["this_run/lines_loaded"].value == 0
    assert raw_meta["this_run/lines_already_present"].value == 4_000
    with engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM marts.monthly_kpis ORDER BY month")).all() == before
        assert (
            conn.execute(text("SELECT * FROM marts.rfm_scores ORDER BY customer_id")).all() == scores_before
        )
        ledger = conn.execute(text("SELECT status, error FROM raw.file_loads ORDER BY load_id")).all()
    assert [row.status for row in ledger] == ["loaded", "duplicate"]
    assert "drop.csv" in ledger[1].error


def test_bad_file_is_rejected_and_the_rest_of_the_graph_still_builds(database_url, engine, paths, drop):
    (paths.landing / "garbage.csv").write_bytes(b"\x00\x01 this is not a table \xff\xfe")
    result = _materialize(database_url, paths.home)
    assert result.success
    assert (paths.rejected / "garbage.csv").exists()
    report = (paths.rejected / "garbage.csv.error.txt").read_text()
    assert "garbage.csv" in report and "missing columns" in report
    with engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT file_name, status FROM raw.file_loads")).all())
        assert statuses == {"drop.csv": "loaded", "garbage.csv": "rejected"}
        assert conn.execute(text("SELECT count(*) FROM marts.monthly_kpis")).scalar_one() > 0
