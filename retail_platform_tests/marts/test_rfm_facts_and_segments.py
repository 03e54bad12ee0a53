"""The RFM facts query (sql/queries/rfm_customer_facts.sql) and marts.rfm_segments on a real database."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import text

from retail_platform.analytics.rfm import SCORE_COLUMNS, facts_from_lines, score_customers
from retail_platform.warehouse.bulk import copy_frame
from retail_platform.warehouse.sql_files import read_sql
from retail_platform_tests.marts import Line, fetch, insert_clean, lines_frame, random_lines, run_transforms

TEN_SEGMENTS = [
    "Hibernating", "At Risk", "Can't Lose", "About to Sleep", "Need Attention", "Loyal Customers", "Promising",
    "New Customers", "Potential Loyalists", "Champions",
]  # fmt: skip

HAND_MADE = [
    # Customer 1: invoices 100 (two lines) and 101 count; every other line of theirs is filtered out.
    Line("100", quantity=2, unit_price="1.5", invoice_date="2011-01-01 09:00:00", customer_id=1),
    Line("100", stock_code="22041", unit_price="10", invoice_date="2011-01-01 09:00:00", customer_id=1),
    Line("101", quantity=4, unit_price="0.25", invoice_date="2011-01-02 10:00:00", customer_id=1),
    Line("C102", quantity=-5, unit_price="2", invoice_date="2011-02-01 10:00:00", customer_id=1),
    Line("103", quantity=3, unit_price="0", invoice_date="2011-02-03 10:00:00", customer_id=1),
    Line("A104", stock_code="B", unit_price="-50", invoice_date="2011-02-04 10:00:00", customer_id=1),
    Line(
        "105", quantity=2, unit_price="3", description=None, invoice_date="2011-02-05 10:00:00", customer_id=1
    ),
    Line("106", quantity=-1, unit_price="-3", invoice_date="2011-02-06 10:00:00", customer_id=1),
    # Guests are nobody's.
    Line("107", quantity=100, unit_price="1", invoice_date="2011-03-01 10:00:00", customer_id=None),
    # Customer 2: one tiny purchase. Customer 3: nothing that counts, so no row.
    Line("108", quantity=3, unit_price="0.001", invoice_date="2011-01-05 23:59:00", customer_id=2),
    Line("C109", quantity=-1, unit_price="5", invoice_date="2011-01-06 10:00:00", customer_id=3),
    Line(
        "110", quantity=1, unit_price="5", description=None, invoice_date="2011-01-07 10:00:00", customer_id=3
    ),
]


def facts_query(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(text(read_sql("queries/rfm_customer_facts.sql")), conn)


def assert_facts_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == ["customer_id", "last_purchase", "frequency", "monetary"]
    actual = actual.sort_values("customer_id").reset_index(drop=True)
    expected = expected.sort_values("customer_id").reset_index(drop=True)
    assert actual["customer_id"].astype(int).tolist() == expected["customer_id"].astype(int).tolist()
    assert (
        pd.to_datetime(actual["last_purchase"]).tolist() == pd.to_datetime(expected["last_purchase"]).tolist()
    )
    assert actual["frequency"].astype(int).tolist() == expected["frequency"].astype(int).tolist()
    # read_sql_query hands numeric over as float (as the asset reads it): compare to 1e-12 relative.
    assert actual["monetary"].astype(float).tolist() == pytest.approx(
        expected["monetary"].astype(float).tolist(), rel=1e-12
    )


def test_facts_query_on_hand_made_lines(engine):
    insert_clean(engine, HAND_MADE)
    actual = facts_query(engine)
    by_hand = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "last_purchase": pd.to_datetime(["2011-01-02 10:00", "2011-01-05 23:59"]),
            "frequency": [2, 1],
            "monetary": [Decimal("14"), Decimal("0.003")],
        }
    )
    assert_facts_equal(actual, by_hand)
    assert_facts_equal(actual, facts_from_lines(lines_frame(HAND_MADE)))


@pytest.mark.parametrize("seed", [5, 6])
def test_facts_query_equals_facts_from_lines(engine, seed):
    lines = random_lines(seed, invoices=250, customers=40)
    insert_clean(engine, lines)
    actual = facts_query(engine)
    assert len(actual) > 20
    assert_facts_equal(actual, facts_from_lines(lines_frame(lines)))


def write_scores(engine, scores: pd.DataFrame) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE marts.rfm_scores"))
        copy_frame(conn, scores, "marts.rfm_scores", SCORE_COLUMNS)


def segments(engine) -> pd.DataFrame:
    run_transforms(engine, "marts.rfm_segments")
    return fetch(engine, "SELECT * FROM marts.rfm_segments").set_index("segment")


def assert_segments_match_pandas(actual: pd.DataFrame, scores: pd.DataFrame) -> None:
    assert sorted(actual.index) == sorted(TEN_SEGMENTS)
    assert actual["customers"].sum() == len(scores)
    if len(scores):
        assert float(actual["share_of_customers"].astype(float).sum()) == pytest.approx(1.0, rel=1e-12)
    numeric = scores.assign(monetary=scores["monetary"].astype(float))
    grouped = numeric.groupby("segment").agg(
        customers=("customer_id", "size"),
        mean_recency_days=("recency_days", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
        total_monetary=("monetary", "sum"),
    )
    for segment in TEN_SEGMENTS:
        row = actual.loc[segment]
        if segment not in grouped.index:
            assert row["customers"] == 0, segment
            assert float(row["share_of_customers"]) == 0.0
            assert float(row["total_monetary"]) == 0.0
            for column in ["mean_recency_days", "mean_frequency", "mean_monetary"]:
                assert row[column] is None or pd.isna(row[column]), (segment, column)
            continue
        want = grouped.loc[segment]
        assert row["customers"] == want["customers"], segment
        assert float(row["share_of_customers"]) == pytest.approx(want["customers"] / len(scores), rel=1e-12)
        for column in ["mean_recency_days", "mean_frequency", "mean_monetary", "total_monetary"]:
            assert float(row[column]) == pytest.approx(want[column], rel=1e-9), (segment, column)


def test_segments_from_hand_made_scores(engine):
    snapshot = pd.Timestamp("2011-12-10")
    scores = pd.DataFrame(
        [
            (1, 3, 10, 1000.0, 5, 5, 5, "555", "Champions"),
            (2, 5, 8, 600.0, 5, 4, 4, "544", "Champions"),
            (3, 200, 1, 20.5, 1, 1, 1, "111", "Hibernating"),
            (4, 40, 3, 99.99, 3, 3, 3, "333", "Need Attention"),
            (5, 150, 2, 15.0, 2, 2, 1, "221", "Hibernating"),
            (6, 1, 1, 12.0, 5, 1, 1, "511", "New Customers"),
            (7, 300, 1, 7.25, 1, 1, 2, "112", "Hibernating"),
        ],
        columns=[
            "customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_score",
            "segment",
        ],
    )  # fmt: skip
    scores["last_purchase"] = snapshot - pd.to_timedelta(scores["recency_days"], "D")
    scores["snapshot_date"] = snapshot
    write_scores(engine, scores)
    actual = segments(engine)
    assert_segments_match_pandas(actual, scores)
    assert actual.loc["Hibernating", "customers"] == 3
    assert float(actual.loc["Hibernating", "mean_recency_days"]) == pytest.approx((200 + 150 + 300) / 3)
    assert float(actual.loc["Hibernating", "total_monetary"]) == pytest.approx(20.5 + 15.0 + 7.25)
    assert float(actual.loc["Champions", "share_of_customers"]) == pytest.approx(2 / 7)
    assert actual.loc["At Risk", "customers"] == 0


@pytest.mark.parametrize("seed", [7, 8])
def test_segments_after_scoring_random_lines(engine, seed):
    lines = random_lines(seed, invoices=300, customers=60)
    insert_clean(engine, lines)
    scores = score_customers(facts_query(engine))
    assert len(scores) > 30
    write_scores(engine, scores)
    stored = fetch(
        engine, "SELECT customer_id, segment, rfm_score FROM marts.rfm_scores ORDER BY customer_id"
    )
    assert stored["segment"].tolist() == scores["segment"].tolist()
    assert_segments_match_pandas(segments(engine), scores)


def test_no_scores_lists_ten_empty_segments(engine):
    actual = segments(engine)
    assert sorted(actual.index) == sorted(TEN_SEGMENTS)
    assert (actual["customers"] == 0).all()
    assert (actual["share_of_customers"] == 0).all()
