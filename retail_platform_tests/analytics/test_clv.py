"""CLV pure code: the BTYD summary, the churn-risk and purchase formulas against a simulated BG/NBD population
and against lifetimes itself, the CLV discounting, and the evaluation metrics on hand-computable cases."""

import warnings

import numpy as np
import pandas as pd
import pytest

from retail_platform.analytics import clv
from retail_platform.analytics.evaluation import TimeSplit, decile_table, mean_absolute_error, roc_auc

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifetimes


def days_frame(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return clv.purchase_days(pd.DataFrame(rows, columns=["customer_id", "day", "amount"]))


def random_days(
    seed: int, customers: int, span_days: int, most_days: int, amounts: tuple[int, int]
) -> pd.DataFrame:
    """Purchase days of ``customers`` customers: 1 to ``most_days`` distinct days each from 2010-01-01 on, with
    random amounts."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2010-01-01")
    rows = [
        (int(customer), start + pd.Timedelta(days=int(day)), float(rng.integers(*amounts)))
        for customer in range(customers)
        for day in np.unique(rng.integers(0, span_days, size=rng.integers(1, most_days)))
    ]
    return days_frame(rows)


def test_summary_by_hand():
    days = days_frame(
        [
            (1, "2010-01-01", 10.0),
            (1, "2010-01-11", 20.0),
            (1, "2010-01-31", 40.0),
            (2, "2010-01-20", 5.0),
            (3, "2010-01-30", 7.0),
            (3, "2010-02-05", 99.0),  # on the snapshot day: not before it, left out
        ]
    )
    summary = clv.summarize(days, pd.Timestamp("2010-02-05")).set_index("customer_id")
    assert summary.loc[1].tolist() == [
        2,
        30,
        35,
        30.0,
    ]  # repeat days 2, first->last 30 d, T 35 d, mean(20, 40)
    assert summary.loc[2].tolist() == [0, 0, 16, 0.0]
    assert summary.loc[3].tolist() == [0, 0, 6, 0.0]


def test_summary_matches_lifetimes_on_random_days():
    days = random_days(seed=3, customers=40, span_days=200, most_days=8, amounts=(1, 500))
    snapshot = pd.Timestamp("2010-07-20")
    ours = clv.summarize(days, snapshot).set_index("customer_id")
    theirs = lifetimes.utils.summary_data_from_transaction_data(
        days[days["day"] < snapshot],
        "customer_id",
        "day",
        monetary_value_col="amount",
        observation_period_end=snapshot - pd.Timedelta(days=1),
        freq="D",
    )
    theirs["T"] += 1  # lifetimes measures T to the last day observed; ours to the midnight after it
    assert ours["frequency"].tolist() == theirs["frequency"].astype(int).tolist()
    assert ours["recency"].tolist() == theirs["recency"].astype(int).tolist()
    assert ours["t"].tolist() == theirs["T"].astype(int).tolist()
    assert np.allclose(ours["monetary"], theirs["monetary_value"])


def fitter(r: float, alpha: float, a: float, b: float):
    model = lifetimes.BetaGeoFitter()
    model.params_ = pd.Series({"r": r, "alpha": alpha, "a": a, "b": b})
    model.predict = model.conditional_expected_number_of_purchases_up_to_time  # as fit() sets it
    return model


def simulate_bgnbd(r, alpha, a, b, customers, calibration, horizon, seed=11):
    """A BG/NBD population from time 0: per customer, purchases by calibration and in the holdout after it."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, customers)
    drop = rng.beta(a, b, customers)
    now = np.zeros(customers)
    alive = np.ones(customers, dtype=bool)
    x = np.zeros(customers, dtype=int)
    last = np.zeros(customers)
    holdout = np.zeros(customers, dtype=int)
    while alive.any():
        now = now + rng.exponential(1 / np.maximum(rate, 1e-12))
        buying = alive & (now <= calibration + horizon)
        in_calibration = buying & (now <= calibration)
        x += in_calibration
        last = np.where(in_calibration, now, last)
        holdout += buying & (now > calibration)
        alive = buying & (rng.random(customers) >= drop)
    return x, last, holdout


@pytest.mark.parametrize("params", [(0.5, 10.0, 0.3, 0.5), (0.8, 20.0, 1.5, 3.0)], ids=["a+b<1", "a+b>1"])
def test_churn_risk_and_expected_purchases_match_a_simulated_population(params):
    r, alpha, a, b = params
    calibration, horizon = 100.0, 60.0
    x, tx, holdout = simulate_bgnbd(r, alpha, a, b, 200_000, calibration, horizon)
    model = fitter(r, alpha, a, b)
    t = np.full(len(x), calibration)
    alive = model.conditional_probability_alive(x, tx, t)
    risk = clv.probability_no_purchase(model.params_.to_dict(), alive, x, t, horizon)
    expected = clv.expected_purchases(model, horizon, x, tx, t)
    assert np.isfinite(expected).all()
    for group in (x == 0, x == 1, (x >= 2) & (x <= 4), x >= 5):
        assert group.sum() > 2_000
        assert abs(risk[group].mean() - (holdout[group] == 0).mean()) < 0.02
        assert abs(expected[group].mean() - holdout[group].mean()) < 0.05 * max(1.0, holdout[group].mean())


def test_churn_risk_of_a_new_customer_is_the_models_p_of_no_purchase():
    model = fitter(0.24, 4.4, 0.79, 2.43)
    for horizon in (1.0, 30.0, 365.0):
        ours = clv.probability_no_purchase(
            model.params_.to_dict(), np.ones(1), np.zeros(1), np.zeros(1), horizon
        )
        assert ours[0] == pytest.approx(model.probability_of_n_purchases_up_to_time(horizon, 0))


def test_expected_purchases_equal_lifetimes_where_it_is_finite():
    model = fitter(0.24, 4.4, 0.79, 2.43)
    x, tx, t = np.array([0, 1, 5, 20]), np.array([0, 10, 30, 35]), np.array([38, 38, 38, 38])
    assert np.allclose(
        clv.expected_purchases(model, 90, x, tx, t),
        model.conditional_expected_number_of_purchases_up_to_time(90, x, tx, t),
    )


def test_lifetime_value_equals_lifetimes_discounting():
    model = fitter(0.24, 4.4, 0.79, 2.43)
    gg = lifetimes.GammaGammaFitter()
    gg.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.45})
    frame = pd.DataFrame(
        {"frequency": [0, 2, 7], "recency": [0, 20, 35], "t": [38, 38, 38], "monetary": [0, 30, 12]}
    )
    value = gg.conditional_expected_average_profit(frame["frequency"], frame["monetary"])
    ours = clv.lifetime_value(
        model, value.to_numpy(), frame["frequency"], frame["recency"], frame["t"], 12, 0.01
    )
    theirs = gg.customer_lifetime_value(
        model,
        frame["frequency"],
        frame["recency"],
        frame["t"],
        frame["monetary"],
        time=12,
        discount_rate=0.01,
    )
    assert np.allclose(ours, theirs)


def test_scored_customers_on_a_fitted_model():
    x, tx, _ = simulate_bgnbd(0.8, 20.0, 1.5, 3.0, 3_000, 200.0, 1.0, seed=5)
    rng = np.random.default_rng(5)
    summary = pd.DataFrame(
        {
            "customer_id": np.arange(len(x)),
            "frequency": x,
            "recency": np.floor(tx).astype(int),
            "t": 200,
            "monetary": np.where(x > 0, rng.gamma(4, 10, len(x)), 0.0),
        }
    )
    models = clv.fit_models(summary)
    scored = clv.score_customers(summary, models, 90, 0.01, pd.Timestamp("2010-12-10"))
    assert list(scored.columns) == list(clv.CLV_COLUMNS)
    assert scored["churn_risk"].between(0, 1).all() and scored["probability_alive"].between(0, 1).all()
    one_timers = scored[scored["frequency"] == 0]
    p, q, v = (models.order_value.params_[name] for name in ("p", "q", "v"))
    assert np.allclose(one_timers["expected_order_value"], p * v / (q - 1))  # the population mean
    # a higher discount rate lowers every CLV
    cheaper = clv.score_customers(summary, models, 90, 0.05, pd.Timestamp("2010-12-10"))
    assert (cheaper["clv_12m"] < scored["clv_12m"]).all()


def test_mae_and_auc_by_hand():
    assert mean_absolute_error([1, 2, 3], [1, 0, 6]) == pytest.approx(5 / 3)
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered right
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert roc_auc([1.0, 1.0], [False, True]) == pytest.approx(0.5)  # a tie counts half
    assert np.isnan(roc_auc([0.3, 0.4], [True, True]))


def test_decile_table_by_hand():
    predicted = pd.Series(np.arange(20, dtype=float))
    table = decile_table(predicted, predicted * 2, pd.Series(np.ones(20)))
    assert table["customers"].tolist() == [2] * 10
    assert table["predicted_purchases"].tolist() == [0.5 + 2 * i for i in range(10)]
    assert table["baseline_purchases"].tolist() == [1 + 4 * i for i in range(10)]


def test_evaluation_counts_holdout_purchase_days_of_calibration_customers():
    days = random_days(seed=8, customers=300, span_days=300, most_days=10, amounts=(5, 200))
    split = TimeSplit(pd.Timestamp("2010-10-28"), 90)
    result = clv.evaluate(days, split)
    metrics = result.metrics.set_index("metric")
    calibration_customers = set(days.loc[days["day"] < split.cutoff, "customer_id"])
    in_holdout = days[(days["day"] >= split.cutoff) & (days["day"] < split.snapshot)]
    actual = in_holdout[in_holdout["customer_id"].isin(calibration_customers)]
    assert result.customers == len(calibration_customers)
    assert metrics.at["total_purchases", "actual_value"] == len(actual)
    assert result.deciles["customers"].sum() == len(calibration_customers)
    assert set(metrics.index) == {"purchases_mae", "purchases_rmse", "churn_auc", "total_purchases"}
    assert (metrics["calibration_end"] == split.cutoff).all()


def test_degenerate_fit_without_dropout_gives_the_no_dropout_rate():
    model = fitter(0.9, 190.0, 1e-12, 1e-12)  # a, b ~ 0: as a fit on a few dozen customers can end
    x, tx, t = np.array([1, 3]), np.array([50, 80]), np.array([100, 100])
    expected = clv.expected_purchases(model, 90, x, tx, t)
    assert np.allclose(expected, (0.9 + x) / (190 + t) * 90)
