"""The customer-intelligence branch materializes from a generated drop on real PostgreSQL, with metadata,
checks, run-config time splits and its chart; its SQL checks fail on the faults they are there for."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from sqlalchemy import text

from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.cleaning import assets as cleaning
from retail_platform.defs.marts import rfm
from retail_platform.defs.partitions import every_month_tags
from retail_platform.defs.predictions import actions, checks
from retail_platform.defs.predictions import charts as prediction_charts
from retail_platform.defs.predictions import clv as clv_assets
from retail_platform.defs.predictions import recommendations as rec_assets
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.ingestion.loader import load_file
from retail_platform.sample_data import write_sample
from retail_platform.warehouse.sql_files import read_sql
from retail_platform_tests.marts import fetch
from retail_platform_tests.predictions import PREDICTION_TABLES

BRANCH_ASSETS = [
    clv_assets.customer_lifetime_value,
    clv_assets.clv_model_evaluation,
    rec_assets.product_recommendations,
    actions.customer_actions,
    prediction_charts.clv_purchases_by_decile,
]
BRANCH_CHECKS = [
    *checks.prediction_sql_checks,
    *checks.prediction_png_checks,
    *checks.prediction_schema_checks,
    *checks.prediction_row_drop_checks,
]
BRANCH = [table.replace(".", "/") for table in PREDICTION_TABLES] + ["charts/clv_purchases_by_decile"]


def _run(database_url: str, home: Path, assets: list, run_config: dict | None = None):
    return dg.materialize(
        [*assets, *BRANCH_CHECKS] if assets == BRANCH_ASSETS else assets,
        instance=dg.DagsterInstance.ephemeral(),
        run_config=run_config or {},
        tags=every_month_tags(),  # clean/order_lines is partitioned by month: the run covers every month
        resources={
            "warehouse": WarehouseResource(url=database_url),
            "retail_paths": RetailPathsResource(home=str(home)),
            "alerting": AlertingResource(webhook_url=None),
        },
    )


@pytest.fixture
def loaded(database_url, engine, paths):
    path = paths.home / "drop.csv"
    write_sample(path, 12_000, seed=3)
    assert load_file(engine, path, progress=lambda _message: None).status == "loaded"
    assert _run(database_url, paths.home, [cleaning.order_lines, rfm.rfm_scores]).success
    return engine


def _materializations(result) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
        for event in result.all_events
        if event.is_step_materialization
    }


def test_branch_materializes_with_metadata_checks_and_chart(database_url, loaded, paths):
    result = _run(database_url, paths.home, BRANCH_ASSETS)
    assert result.success
    materialized = _materializations(result)
    assert set(materialized) == set(BRANCH)
    with loaded.connect() as conn:
        for table in PREDICTION_TABLES:
            metadata = materialized[table.replace(".", "/")]
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert rows > 0, table
            assert metadata["dagster/row_count"].value == rows, table
            assert metadata["dagster/column_schema"].value.columns, table
            assert "preview" in metadata, table
    evaluation = materialized["marts/clv_model_evaluation"]
    assert {"mae_model", "mae_baseline", "auc_model", "auc_baseline"} <= set(evaluation)
    assert {"hit_rate_similarity", "hit_rate_popularity"} <= set(
        materialized["marts/recommendation_evaluation"]
    )
    chart = materialized["charts/clv_purchases_by_decile"]
    assert Path(chart["path"].value).read_bytes().startswith(b"\x89PNG")
    assert chart["chart"].value.startswith("![")

    clv = fetch(loaded, "SELECT customer_id FROM marts.customer_lifetime_value ORDER BY 1")["customer_id"]
    rfm = fetch(loaded, "SELECT customer_id FROM marts.rfm_scores ORDER BY 1")["customer_id"]
    assert clv.tolist() == rfm.tolist()
    lists = fetch(loaded, "SELECT customer_id, count(*) AS n FROM marts.product_recommendations GROUP BY 1")
    assert sorted(lists["customer_id"]) == clv.tolist() and set(lists["n"]) == {10}
    view = fetch(loaded, "SELECT * FROM marts.webapp_next_best_actions")
    assert len(view) == len(clv)

    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    for table in BRANCH:
        assert any(asset == table for asset, _ in checks), f"no check on {table}"
    assert all(checks.values()), [key for key, passed in checks.items() if not passed]


def test_horizon_snapshot_and_split_are_run_config(database_url, loaded, paths):
    keys = [clv_assets.customer_lifetime_value, clv_assets.clv_model_evaluation]
    assert _run(database_url, paths.home, keys).success
    default = fetch(loaded, "SELECT * FROM marts.customer_lifetime_value ORDER BY customer_id")
    config = {
        "ops": {
            "marts__customer_lifetime_value": {"config": {"horizon_days": 30, "snapshot_date": "2010-10-01"}},
            "clv_model_evaluation": {"config": {"horizon_days": 60, "snapshot_date": "2010-07-01"}},
        }
    }
    assert _run(database_url, paths.home, keys, config).success
    short = fetch(loaded, "SELECT * FROM marts.customer_lifetime_value ORDER BY customer_id")
    assert set(short["horizon_days"]) == {30} and set(short["snapshot_date"]) == {pd.Timestamp("2010-10-01")}
    first_days = fetch(
        loaded,
        "SELECT customer_id FROM clean.order_lines WHERE customer_id IS NOT NULL AND quantity > 0 AND amount > 0"
        " AND description IS NOT NULL AND invoice_date < '2010-10-01' GROUP BY 1 ORDER BY 1",
    )
    assert short["customer_id"].tolist() == first_days["customer_id"].tolist()
    assert len(short) < len(default)
    evaluation = fetch(loaded, "SELECT * FROM marts.clv_model_evaluation")
    assert set(evaluation["calibration_end"]) == {pd.Timestamp("2010-05-02")}
    assert set(evaluation["horizon_days"]) == {60}


def _check(engine, name: str):
    with engine.connect() as conn:
        return conn.execute(text(read_sql(f"checks/{name}.sql"))).one()


def test_checks_catch_their_faults(database_url, loaded, paths):
    assert _run(database_url, paths.home, BRANCH_ASSETS).success
    with loaded.begin() as conn:
        customer, code = conn.execute(
            text("SELECT customer_id, stock_code FROM clean.order_lines WHERE customer_id IS NOT NULL"
                 " AND quantity > 0 AND amount > 0 AND description IS NOT NULL AND NOT is_non_product LIMIT 1")
        ).one()  # fmt: skip
        conn.execute(
            text(
                "UPDATE marts.product_recommendations SET stock_code = :code WHERE customer_id = :c AND rank = 1"
            ),
            {"code": code, "c": customer},
        )
    assert _check(loaded, "product_recommendations_valid").failed_rows == 1
    assert _check(loaded, "customer_actions_valid").failed_rows == 1  # its top 3 no longer match
    with loaded.begin() as conn:
        conn.execute(
            text("DELETE FROM marts.customer_lifetime_value WHERE customer_id = :c"), {"c": customer}
        )
    assert _check(loaded, "customer_lifetime_value_one_row_per_customer").failed_rows == 1
    assert _check(loaded, "customer_lifetime_value_valid").failed_rows == 0
    with loaded.begin() as conn:
        conn.execute(
            text(
                "UPDATE marts.customer_lifetime_value SET clv_12m = -1"  # a negative lifetime value
                " WHERE customer_id = (SELECT min(customer_id) FROM marts.customer_lifetime_value)"
            )
        )
    assert _check(loaded, "customer_lifetime_value_valid").failed_rows == 1

    with loaded.begin() as conn:
        conn.execute(
            text("UPDATE marts.clv_model_evaluation SET model_beats_baseline = false, customers = 500")
        )
        conn.execute(text("UPDATE marts.recommendation_evaluation SET customers = 500, hit_rate = 0.2"))
    assert _check(loaded, "clv_model_evaluation_beats_baselines").failed_rows == 2
    assert _check(loaded, "recommendation_evaluation_beats_popularity").failed_rows == 1
    assert _check(loaded, "clv_evaluation_deciles_add_up").failed_rows >= 1  # deciles no longer add up to 500
    with loaded.begin() as conn:  # too few customers to judge: passes, and says so
        conn.execute(text("UPDATE marts.clv_model_evaluation SET customers = 50"))
    row = _check(loaded, "clv_model_evaluation_beats_baselines")
    assert row.failed_rows == 0 and row.details.startswith("not judged: 50 customers")
    with loaded.begin() as conn:
        conn.execute(text("TRUNCATE marts.clv_model_evaluation, marts.recommendation_evaluation"))
    assert _check(loaded, "clv_model_evaluation_beats_baselines").failed_rows == 2
    assert _check(loaded, "recommendation_evaluation_beats_popularity").failed_rows == 1


def test_product_popularity_query_counts_distinct_invoices(loaded):
    lines = fetch(
        loaded,
        "SELECT stock_code, invoice_no, invoice_date FROM clean.order_lines WHERE customer_id IS NOT NULL"
        " AND quantity > 0 AND amount > 0 AND description IS NOT NULL AND NOT is_non_product",
    )
    before, cutoff = pd.Timestamp("2010-11-01"), pd.Timestamp("2010-08-01")
    lines = lines[pd.to_datetime(lines["invoice_date"]) < before]
    first = lines.groupby(["stock_code", "invoice_no"])["invoice_date"].min().reset_index()
    expected = first.groupby("stock_code").agg(
        invoices=("invoice_no", "size"),
        calibration_invoices=("invoice_date", lambda dates: int((pd.to_datetime(dates) < cutoff).sum())),
    )
    with loaded.connect() as conn:
        got = pd.read_sql_query(
            text(read_sql("queries/recommendation_products.sql")),
            conn,
            params={"before": before, "cutoff": cutoff},
        ).set_index("stock_code")
    assert got.index.is_unique and set(got.index) == set(expected.index)
    pd.testing.assert_frame_equal(
        got.loc[expected.index, ["invoices", "calibration_invoices"]].astype("int64"),
        expected.astype("int64"),
    )


def test_read_frame_streams_typed_chunks_that_add_up_to_the_whole(loaded):
    from retail_platform.defs.predictions.common import read_frame
    from retail_platform.defs.predictions.recommendations import PAIR_TYPES

    query = "recommendation_customer_products.sql"
    with loaded.connect() as conn:
        whole = pd.read_sql_query(text(read_sql(f"queries/{query}")), conn)
    chunked = read_frame(loaded, query, PAIR_TYPES, chunk_rows=997)
    assert len(whole) > 5 * 997  # several chunks, their categories united
    assert isinstance(chunked["stock_code"].dtype, pd.CategoricalDtype)
    assert chunked["customer_id"].dtype == "int64" and chunked["first_purchase"].dtype == "datetime64[ns]"
    expected = whole.astype(PAIR_TYPES | {"stock_code": object})
    pd.testing.assert_frame_equal(chunked.astype({"stock_code": object}), expected)


def test_read_frame_keeps_strings_that_look_missing(engine):
    from retail_platform.defs.predictions.common import read_frame

    # the query of the scored customers, on a view standing in for the mart: values only COPY's CSV can blur
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE marts.customer_lifetime_value RENAME TO clv_kept"))
        conn.execute(
            text(
                "CREATE VIEW marts.customer_lifetime_value AS SELECT * FROM (VALUES ('NA'), ('null'), ('a,\"b'),"
                " (NULL)) AS v(customer_id)"
            )
        )
    frame = read_frame(engine, "recommendation_scored_customers.sql", {"customer_id": "object"})
    assert frame["customer_id"].tolist()[:3] == ["NA", 'a,"b', "null"] and pd.isna(
        frame["customer_id"].iloc[3]
    )
