"""RFM (SPEC 4.3) in pure pandas: facts from lines, recency / snapshot, quantile scores and segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_platform.analytics.rfm import SEGMENTS, facts_from_lines, score_customers, segment_for

# SPEC 4.3's table expanded by hand into all 25 (R, F) pairs.
SPEC_SEGMENTS = {
    (1, 1): "Hibernating", (1, 2): "Hibernating", (2, 1): "Hibernating", (2, 2): "Hibernating",
    (1, 3): "At Risk", (1, 4): "At Risk", (2, 3): "At Risk", (2, 4): "At Risk",
    (1, 5): "Can't Lose", (2, 5): "Can't Lose",
    (3, 1): "About to Sleep", (3, 2): "About to Sleep",
    (3, 3): "Need Attention",
    (3, 4): "Loyal Customers", (3, 5): "Loyal Customers", (4, 4): "Loyal Customers", (4, 5): "Loyal Customers",
    (4, 1): "Promising",
    (5, 1): "New Customers",
    (4, 2): "Potential Loyalists", (4, 3): "Potential Loyalists",
    (5, 2): "Potential Loyalists", (5, 3): "Potential Loyalists",
    (5, 4): "Champions", (5, 5): "Champions",
}  # fmt: skip
TEN_SEGMENTS = {
    "Hibernating", "At Risk", "Can't Lose", "About to Sleep", "Need Attention", "Loyal Customers", "Promising",
    "New Customers", "Potential Loyalists", "Champions",
}  # fmt: skip


def facts(rows: list[tuple[int, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "last_purchase", "frequency", "monetary"]).assign(
        last_purchase=lambda frame: pd.to_datetime(frame["last_purchase"])
    )


def random_facts(seed: int, customers: int) -> pd.DataFrame:
    """Shuffled customer ids, continuous last purchases and monetary (unique values), tied frequencies."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(12000, 12000 + customers))
    last = pd.Timestamp("2011-12-09 12:50") - pd.to_timedelta(
        rng.integers(0, 400 * 24 * 60, customers), "min"
    )
    return pd.DataFrame(
        {
            "customer_id": ids,
            "last_purchase": last,
            "frequency": rng.choice([1, 1, 1, 2, 2, 3, 5, 8, 20], customers),
            "monetary": np.round(rng.lognormal(6, 1.2, customers), 2) + rng.random(customers) / 1000,
        }
    )


def spec_scores(frame: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    """SPEC 4.3 scores straight from ``pandas.qcut`` (valid when the bin edges are unique)."""
    by_id = frame.sort_values("customer_id").reset_index(drop=True)
    recency = (snapshot - by_id["last_purchase"]).dt.days
    return pd.DataFrame(
        {
            "customer_id": by_id["customer_id"],
            "recency_days": recency,
            "r_score": pd.qcut(recency, 5, labels=[5, 4, 3, 2, 1]).astype(int),
            "f_score": pd.qcut(by_id["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(
                int
            ),
            "m_score": pd.qcut(by_id["monetary"], 5, labels=[1, 2, 3, 4, 5]).astype(int),
        }
    )


# --- facts -------------------------------------------------------------------------------------------------


def test_facts_from_lines_filters_and_aggregates():
    lines = pd.DataFrame(
        [
            # customer 1: two invoices (one with two lines), the latest at 2011-01-02 10:00
            ("100", 1, 2, 1.5, "A", "2011-01-01 09:00"),
            ("100", 1, 1, 10.0, "B", "2011-01-01 09:00"),
            ("101", 1, 4, 0.25, "C", "2011-01-02 10:00"),
            # excluded lines of customer 1: cancellation, zero quantity, free, negative price, no description
            ("C102", 1, -5, 2.0, "A", "2011-02-01 10:00"),
            ("103", 1, 0, 2.0, "A", "2011-02-02 10:00"),
            ("104", 1, 3, 0.0, "A", "2011-02-03 10:00"),
            ("A105", 1, 1, -50.0, "Adjust bad debt", "2011-02-04 10:00"),
            ("106", 1, 2, 3.0, None, "2011-02-05 10:00"),
            ("107", 1, -2, -3.0, "A", "2011-02-06 10:00"),  # amount > 0 but quantity < 0
            # guest lines are not anybody's
            ("108", None, 100, 1.0, "A", "2011-03-01 10:00"),
            # customer 2: one purchase; customer 3: only excluded lines, so absent
            ("109", 2, 3, 0.001, "D", "2011-01-05 23:59"),
            ("C110", 3, -1, 5.0, "A", "2011-01-06 10:00"),
            ("111", 3, 1, 5.0, None, "2011-01-07 10:00"),
        ],
        columns=["invoice_no", "customer_id", "quantity", "unit_price", "description", "invoice_date"],
    )
    lines["invoice_date"] = pd.to_datetime(lines["invoice_date"])
    result = facts_from_lines(lines).set_index("customer_id")
    assert sorted(result.index) == [1, 2]
    assert result.loc[1, "last_purchase"] == pd.Timestamp("2011-01-02 10:00")
    assert result.loc[1, "frequency"] == 2
    assert result.loc[1, "monetary"] == pytest.approx(3.0 + 10.0 + 1.0)
    assert result.loc[2, "last_purchase"] == pd.Timestamp("2011-01-05 23:59")
    assert result.loc[2, "frequency"] == 1
    assert result.loc[2, "monetary"] == pytest.approx(0.003)
    assert list(facts_from_lines(lines).columns) == ["customer_id", "last_purchase", "frequency", "monetary"]


# --- recency and snapshot ----------------------------------------------------------------------------------


def test_recency_is_floor_of_days_to_the_snapshot():
    snapshot = pd.Timestamp("2011-12-10")
    scored = score_customers(
        facts(
            [
                (1, "2011-12-09 23:59", 1, 10.0),  # one minute before: 0 days
                (2, "2011-12-08 23:59", 1, 20.0),  # 1 day and 1 minute: 1
                (3, "2011-12-08 00:00", 1, 30.0),  # exactly 2 days
                (4, "2011-12-07 00:01", 1, 40.0),  # 2 days 23 h 59 min: 2
                (5, "2010-12-10 00:00", 1, 50.0),  # 365 days
            ]
        ),
        snapshot,
    ).set_index("customer_id")
    assert scored["recency_days"].to_dict() == {1: 0, 2: 1, 3: 2, 4: 2, 5: 365}
    assert (scored["snapshot_date"] == snapshot).all()


def test_default_snapshot_is_midnight_after_the_latest_purchase_day():
    scored = score_customers(
        facts(
            [
                (1, "2011-12-09 12:50", 1, 10.0),
                (2, "2011-12-01 08:00", 1, 20.0),
                (3, "2011-11-30 23:59", 1, 5.0),
            ]
        )
    ).set_index("customer_id")
    assert (scored["snapshot_date"] == pd.Timestamp("2011-12-10 00:00")).all()
    assert scored["recency_days"].to_dict() == {1: 0, 2: 8, 3: 9}


def test_default_snapshot_when_the_latest_purchase_is_at_midnight():
    scored = score_customers(facts([(1, "2011-12-09 00:00", 1, 10.0), (2, "2011-12-08 23:59", 1, 10.0)]))
    assert (scored["snapshot_date"] == pd.Timestamp("2011-12-10")).all()
    assert scored.set_index("customer_id")["recency_days"].to_dict() == {1: 1, 2: 1}


def test_snapshot_is_configurable():
    data = facts([(1, "2011-12-09 12:50", 1, 10.0), (2, "2011-12-01 08:00", 1, 20.0)])
    scored = score_customers(data, pd.Timestamp("2012-01-01")).set_index("customer_id")
    assert scored["recency_days"].to_dict() == {1: 22, 2: 30}
    assert (scored["snapshot_date"] == pd.Timestamp("2012-01-01")).all()
    # A date string works like the asset's config.
    as_text = score_customers(data, "2012-01-01").set_index("customer_id")
    assert as_text["recency_days"].to_dict() == {1: 22, 2: 30}


def test_frequency_and_monetary_are_carried_through():
    data = facts([(7, "2011-01-01", 3, 12.5), (3, "2011-02-01", 1, 0.003)])
    scored = score_customers(data).set_index("customer_id")
    assert scored.loc[7, "frequency"] == 3
    assert scored.loc[3, "frequency"] == 1
    assert scored.loc[7, "monetary"] == pytest.approx(12.5)
    assert scored.loc[3, "monetary"] == pytest.approx(0.003)


# --- scores ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "customers"), [(1, 10), (2, 37), (3, 200)])
def test_scores_equal_pandas_qcut(seed, customers):
    data = random_facts(seed, customers)
    snapshot = pd.Timestamp("2011-12-10")
    expected = spec_scores(data, snapshot)
    actual = score_customers(data, snapshot).reset_index(drop=True)
    assert actual["customer_id"].tolist() == expected["customer_id"].tolist()
    for column in ["recency_days", "r_score", "f_score", "m_score"]:
        assert actual[column].astype(int).tolist() == expected[column].tolist(), column
    assert actual["rfm_score"].tolist() == [
        f"{r}{f}{m}"
        for r, f, m in zip(expected["r_score"], expected["f_score"], expected["m_score"], strict=True)
    ]
    assert [SPEC_SEGMENTS[(r, f)] for r, f in zip(expected["r_score"], expected["f_score"], strict=True)] == (
        actual["segment"].tolist()
    )


def test_f_score_breaks_frequency_ties_by_ascending_customer_id():
    # Everybody bought once; rows arrive in no particular order. Ranks follow customer ids: 10 -> 1, ..., 50 -> 5.
    data = facts([(50, "2011-01-05", 1, 5.0), (10, "2011-01-01", 1, 1.0), (40, "2011-01-04", 1, 4.0),
                  (20, "2011-01-02", 1, 2.0), (30, "2011-01-03", 1, 3.0)])  # fmt: skip
    scored = score_customers(data, pd.Timestamp("2011-02-01")).set_index("customer_id")
    assert scored["f_score"].to_dict() == {10: 1, 20: 2, 30: 3, 40: 4, 50: 5}


def test_f_score_ties_within_groups_of_equal_frequency():
    # Ten customers, given in reverse id order. Frequencies: 1 x 6 (ids 1..6), 2 x 2 (ids 7, 8), 3, 9.
    rows = [
        (cid, "2011-01-01", freq, 10.0 * cid)
        for cid, freq in zip(range(1, 11), [1] * 6 + [2, 2, 3, 9], strict=True)
    ]
    # Reverse id order, and make the frequency-1 ids non-contiguous in the input.
    data = facts(rows[::-1])
    scored = score_customers(data, pd.Timestamp("2011-02-01")).set_index("customer_id")
    # Ranks by (frequency, id): ids 1..10 -> 1..10; qcut of 1..10 in fifths -> pairs of ranks share a bin.
    assert scored["f_score"].to_dict() == {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}


def test_f_score_splits_tied_frequencies_across_a_bin_edge_by_id():
    # Frequencies 1, 2, 2, 3, ..., 9 for ids 1..10: qcut of the average ranks would put ids 2 and 3 together,
    # SPEC's rank(method="first") gives ranks 1..10, so ids 2 and 3 fall in different bins.
    rows = [
        (cid, "2011-01-01", freq, 1.0 + cid)
        for cid, freq in zip(range(1, 11), [1, 2, 2, 3, 4, 5, 6, 7, 8, 9], strict=True)
    ]
    scored = score_customers(facts(rows[::-1]), pd.Timestamp("2011-02-01")).set_index("customer_id")
    assert scored["f_score"].to_dict() == {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}


def test_f_score_orders_by_id_not_by_input_order_when_ids_interleave():
    # Frequency 1 for ids 3, 1, 5, 2, 4 (input order) and frequency 2 for ids 9, 6, 8, 7, 10.
    rows = [(3, 1), (1, 1), (9, 2), (5, 1), (6, 2), (2, 1), (8, 2), (4, 1), (7, 2), (10, 2)]
    data = facts([(cid, "2011-01-01", freq, 1.0 + cid) for cid, freq in rows])
    scored = score_customers(data, pd.Timestamp("2011-02-01")).set_index("customer_id")
    assert scored["f_score"].to_dict() == {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}


def test_equal_recency_and_monetary_share_a_quantile_bin():
    # Recency 0,0,1,1,2,2,3,3,4,4 days: qcut edges 0, 0.8, 1.6, 2.4, 3.2, 4 are unique, ties land together.
    snapshot = pd.Timestamp("2011-12-10")
    days = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    money = [5.0, 5.0, 10.0, 10.0, 20.0, 20.0, 40.0, 40.0, 80.0, 80.0]
    rows = [
        (cid, snapshot - pd.Timedelta(days=d, hours=3), 1, m)
        for cid, d, m in zip(range(1, 11), days, money, strict=True)
    ]
    scored = score_customers(facts(rows), snapshot).set_index("customer_id")
    assert scored["recency_days"].tolist() == days
    assert scored["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scored["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    expected = spec_scores(facts(rows), snapshot)
    assert scored["r_score"].tolist() == expected["r_score"].tolist()
    assert scored["m_score"].tolist() == expected["m_score"].tolist()


def test_heavy_ties_still_give_monotone_scores_within_range():
    # Most customers bought on the same day for the same amount: qcut's bin edges are not unique here.
    snapshot = pd.Timestamp("2011-12-10")
    rows = [(cid, "2011-12-09 10:00", 1, 15.0) for cid in range(1, 9)]
    rows += [(9, "2011-10-01 10:00", 2, 300.0), (10, "2011-06-01 10:00", 4, 900.0)]
    scored = score_customers(facts(rows), snapshot).set_index("customer_id")
    for column in ["r_score", "f_score", "m_score"]:
        assert scored[column].between(1, 5).all(), column
    for a in scored.itertuples():
        for b in scored.itertuples():
            if a.recency_days < b.recency_days:
                assert a.r_score >= b.r_score, (a.Index, b.Index)
            if a.monetary < b.monetary:
                assert a.m_score <= b.m_score, (a.Index, b.Index)
    # The most recent customers score at least as well as the oldest ones, the biggest spender scores 5.
    assert scored.loc[10, "r_score"] == 1
    assert scored.loc[10, "m_score"] == 5


# --- segments ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("r_score", "f_score"), sorted(SPEC_SEGMENTS))
def test_every_r_f_pair_maps_to_the_spec_segment(r_score, f_score):
    assert segment_for(r_score, f_score) == SPEC_SEGMENTS[(r_score, f_score)]


def test_segment_names_are_the_ten_of_the_spec():
    assert set(SEGMENTS) == TEN_SEGMENTS
    assert len(SEGMENTS) == 10


def test_rfm_score_is_three_digit_text():
    scored = score_customers(random_facts(5, 60), pd.Timestamp("2011-12-10"))
    digits = zip(scored["r_score"], scored["f_score"], scored["m_score"], scored["rfm_score"], strict=True)
    for r, f, m, text in digits:
        assert isinstance(text, str)
        assert len(text) == 3
        assert text == f"{r}{f}{m}"
    assert scored["segment"].tolist() == [
        SPEC_SEGMENTS[(r, f)] for r, f in zip(scored["r_score"], scored["f_score"], strict=True)
    ]


# --- small inputs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("customers", [1, 2, 3, 4])
@pytest.mark.parametrize("tied", [False, True])
def test_tiny_inputs_score_within_range(customers, tied):
    rows = [
        (
            cid,
            "2011-12-01 10:00" if tied else f"2011-12-0{cid} 10:00",
            1 if tied else cid,
            10.0 if tied else cid,
        )
        for cid in range(1, customers + 1)
    ]
    scored = score_customers(facts(rows))
    assert len(scored) == customers
    assert scored["customer_id"].tolist() == list(range(1, customers + 1))
    for column in ["r_score", "f_score", "m_score"]:
        assert scored[column].between(1, 5).all(), column
    assert scored["rfm_score"].str.fullmatch(r"[1-5]{3}").all()
    assert set(scored["segment"]) <= TEN_SEGMENTS


def test_a_single_customer_gets_the_middle_scores():
    # qcut cannot bin one value; README documents the choice: 3 on every score.
    scored = score_customers(facts([(42, "2011-12-01 10:00", 3, 99.0)]))
    assert scored[["r_score", "f_score", "m_score"]].iloc[0].tolist() == [3, 3, 3]
    assert scored["rfm_score"].tolist() == ["333"]
    assert scored["segment"].tolist() == ["Need Attention"]
    assert scored["recency_days"].tolist() == [0]


def test_no_customers_gives_an_empty_frame():
    scored = score_customers(facts([]))
    assert scored.empty
    assert {"customer_id", "r_score", "f_score", "m_score", "rfm_score", "segment"} <= set(scored.columns)


def test_missing_fact_columns_are_reported():
    with pytest.raises(ValueError, match="monetary"):
        score_customers(pd.DataFrame({"customer_id": [1], "last_purchase": ["2011-01-01"], "frequency": [1]}))
