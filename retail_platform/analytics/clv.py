"""Customer lifetime value and churn risk with BG/NBD (purchases) and Gamma-Gamma (order value), SPEC 4.4.

Pure pandas/numpy around the ``lifetimes`` library (no database, no Dagster): the asset reads one row per
customer and purchase day (``sql/queries/clv_purchase_days.sql``) and hands it here. The models are fitted by
``lifetimes`` (maximum likelihood with scipy); this module only builds their inputs, reads their predictions
and adds the one quantity the library lacks, the probability of no purchase in the next ``horizon_days``.

Time is measured in whole days. A purchase is a day with at least one RFM input line (SPEC 4.3); a snapshot is
a midnight, and only purchases before it count.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from retail_platform.analytics.evaluation import (
    TimeSplit,
    decile_table,
    mean_absolute_error,
    roc_auc,
    root_mean_squared_error,
)

PURCHASE_DAY_COLUMNS = ("customer_id", "day", "amount")
SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "t", "monetary")
CLV_COLUMNS = (
    "customer_id",
    "frequency",
    "recency",
    "t",
    "monetary",
    "expected_purchases",
    "probability_alive",
    "churn_risk",
    "expected_order_value",
    "clv_12m",
    "horizon_days",
    "snapshot_date",
)
CLV_MONTHS = 12  # lifetimes' months are 30 days when T is in days


def _lifetimes():
    """Import ``lifetimes`` quietly: on import it sets a pandas option that pandas 3 deprecates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes

    return lifetimes


def default_snapshot(days: pd.Series) -> pd.Timestamp:
    """Midnight after the latest purchase day, as RFM's default snapshot (SPEC 4.3)."""
    return pd.Timestamp(days.max()).normalize() + pd.Timedelta(days=1)


def purchase_days(frame: pd.DataFrame) -> pd.DataFrame:
    """The query's rows typed: integer customer, day as a midnight timestamp, amount as float."""
    out = frame.loc[:, list(PURCHASE_DAY_COLUMNS)].copy()
    out["customer_id"] = out["customer_id"].astype("int64")
    out["day"] = pd.to_datetime(out["day"]).dt.normalize()
    out["amount"] = out["amount"].astype("float64")
    return out


def summarize(days: pd.DataFrame, snapshot: pd.Timestamp) -> pd.DataFrame:
    """BTYD inputs per customer from purchase days before ``snapshot`` (as lifetimes'
    ``summary_data_from_transaction_data`` with daily periods): ``frequency`` = purchase days - 1,
    ``recency`` = first to last purchase day, ``t`` = first purchase day to the snapshot, ``monetary`` = mean
    amount of the repeat purchase days (0 without any)."""
    before = days[days["day"] < snapshot]
    if before.empty:
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in SUMMARY_COLUMNS})
    before = before.sort_values(["customer_id", "day"], kind="stable")
    grouped = before.groupby("customer_id", sort=True)
    first_day = grouped["day"].min()
    last_day = grouped["day"].max()
    count = grouped["day"].count()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()
    frequency = count - 1
    repeat_total = total - first_amount
    monetary = np.where(frequency > 0, repeat_total / frequency.where(frequency > 0, 1), 0.0)
    return pd.DataFrame(
        {
            "customer_id": first_day.index.astype("int64"),
            "frequency": frequency.to_numpy(dtype="int64"),
            "recency": (last_day - first_day).dt.days.to_numpy(dtype="int64"),
            "t": (snapshot - first_day).dt.days.to_numpy(dtype="int64"),
            "monetary": monetary.astype("float64"),
        }
    )


# Penalties tried, in order, when a fit does not converge (lifetimes' own advice: "try adding a larger
# penalizer"), first at lifetimes' default tolerance, then at a looser one (a flat likelihood, as a few dozen
# customers give, makes scipy stop with "precision loss" at 1e-7); the shop's full history needs neither.
PENALIZER_FALLBACKS = (0.001, 0.01, 0.1, 1.0)
TOLERANCES = (1e-7, 1e-5)


@dataclass
class FittedModels:
    """The two fitted ``lifetimes`` models, the L2 penalties they needed and how long each fit took."""

    purchases: object  # lifetimes.BetaGeoFitter
    order_value: object | None  # lifetimes.GammaGammaFitter; None when it cannot be fitted (see order_values)
    purchases_fit_s: float
    order_value_fit_s: float
    purchases_penalizer: float = 0.0
    order_value_penalizer: float = 0.0

    def parameters(self) -> dict[str, float]:
        params = dict(self.purchases.params_.to_dict())
        if self.order_value is not None:
            params.update(self.order_value.params_.to_dict())
        params["bgnbd_penalizer"] = self.purchases_penalizer
        params["gamma_gamma_penalizer"] = self.order_value_penalizer
        return {name: round(float(value), 6) for name, value in params.items()}


def _fit_with_fallbacks(make, fit, penalizer_coef: float, usable=lambda model: True):
    """``fit(make(coef), tol)`` for the first penalty and tolerance that converge to a usable model;
    (model, coef)."""
    lifetimes = _lifetimes()
    problems = []
    for tol in TOLERANCES:
        for coef in dict.fromkeys((float(penalizer_coef), *PENALIZER_FALLBACKS)):
            model = make(coef)
            try:
                fit(model, tol)
            except lifetimes.utils.ConvergenceError:
                problems.append(f"{coef:g} at tol {tol:g}: did not converge")
                continue
            if usable(model):
                return model, coef
            problems.append(f"{coef:g} at tol {tol:g}: unusable parameters {model.params_.to_dict()}")
    raise ValueError("no fit: " + "; ".join(problems))


def fit_models(summary: pd.DataFrame, penalizer_coef: float = 0.0, order_value: bool = True) -> FittedModels:
    """BG/NBD on every customer and (``order_value``) Gamma-Gamma on the customers with repeat purchases;
    each with the smallest penalty, from ``penalizer_coef`` up, that converges. Gamma-Gamma also needs q > 1
    (a finite mean order value); when no fit has it, or fewer than two customers repeat, it is left out."""
    lifetimes = _lifetimes()
    if len(summary) < 2:
        raise ValueError(f"BG/NBD needs at least two customers, got {len(summary)}")
    repeat = summary[summary["frequency"] > 0]
    started = time.perf_counter()
    ggf, gg_coef, gg_s = None, 0.0, 0.0
    with contextlib.redirect_stdout(io.StringIO()):  # lifetimes prints scipy's report of a failed fit
        bgf, bg_coef = _fit_with_fallbacks(
            lambda coef: lifetimes.BetaGeoFitter(penalizer_coef=coef),
            lambda model, tol: model.fit(summary["frequency"], summary["recency"], summary["t"], tol=tol),
            penalizer_coef,
        )
        purchases_s = time.perf_counter() - started
        if order_value and len(repeat) >= 2:
            started = time.perf_counter()
            with contextlib.suppress(ValueError):
                ggf, gg_coef = _fit_with_fallbacks(
                    lambda coef: lifetimes.GammaGammaFitter(penalizer_coef=coef),
                    lambda model, tol: model.fit(repeat["frequency"], repeat["monetary"], tol=tol),
                    0.0,
                    usable=lambda model: model.params_["q"] > 1,
                )
            gg_s = time.perf_counter() - started
    return FittedModels(bgf, ggf, purchases_s, gg_s, bg_coef, gg_coef)


def order_values(models: FittedModels, frequency: pd.Series, monetary: pd.Series) -> np.ndarray:
    """Expected order value: Gamma-Gamma's conditional mean (the population mean without repeat purchases);
    without a Gamma-Gamma fit, the customer's observed repeat mean, or the mean over repeat customers."""
    if models.order_value is not None:
        return np.asarray(models.order_value.conditional_expected_average_profit(frequency, monetary))
    repeat = np.asarray(frequency) > 0
    population = float(np.mean(np.asarray(monetary)[repeat])) if repeat.any() else 0.0
    return np.where(repeat, np.asarray(monetary, dtype="float64"), population)


def probability_no_purchase(
    params: dict[str, float], alive: np.ndarray, frequency: np.ndarray, t: np.ndarray, horizon: float
) -> np.ndarray:
    """BG/NBD: P(no purchase in the next ``horizon`` days | x, t_x, T), from P(alive | x, t_x, T).

    A BG/NBD customer can only drop out right after a purchase, so one alive at T makes no purchase in
    (T, T + horizon] exactly when their Poisson clock does not tick; given alive, their rate is
    Gamma(r + x, alpha + T). Hence P = (1 - P(alive)) + P(alive) * ((alpha + T) / (alpha + T + horizon))^(r + x).
    With x = 0 and T = 0 this is the model's unconditional P(X(horizon) = 0) = (alpha / (alpha + horizon))^r.
    """
    r, alpha = params["r"], params["alpha"]
    x = np.asarray(frequency, dtype="float64")
    big_t = np.asarray(t, dtype="float64")
    alive = np.asarray(alive, dtype="float64")
    quiet_if_alive = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + horizon)))
    return np.clip((1.0 - alive) + alive * quiet_if_alive, 0.0, 1.0)


def expected_purchases(bgf, horizon: float, frequency, recency, t) -> np.ndarray:
    """BG/NBD E[purchases in the next ``horizon`` days | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10).

    ``lifetimes`` evaluates the equation through ``log(2F1(...))``, which is NaN wherever the hypergeometric
    term is negative, as it legitimately is when a + b + x - 1 < 0 (low dropout fits such as this shop's;
    lifetimes issue #302). Those customers get the same equation evaluated without the logarithm; repeat
    buyers of a degenerate fit (a, b ~ 0), where it is 0 x infinity, get its limit.
    """
    r, alpha, a, b = (float(bgf.params_[name]) for name in ("r", "alpha", "a", "b"))
    all_x = np.asarray(frequency, dtype="float64")
    all_tx = np.asarray(recency, dtype="float64")
    all_t = np.asarray(t, dtype="float64")
    with np.errstate(all="ignore"):
        value = np.asarray(
            bgf.conditional_expected_number_of_purchases_up_to_time(horizon, all_x, all_tx, all_t)
        )
    broken = ~np.isfinite(value)
    if broken.any():
        from scipy.special import hyp2f1

        x, tx, big_t = all_x[broken], all_tx[broken], all_t[broken]
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, horizon / (alpha + big_t + horizon))
        decay = ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x)
        numerator = (a + b + x - 1) / (a - 1) * (1 - hyp * decay)
        denominator = 1 + (x > 0) * (a / (b + np.maximum(x, 1) - 1)) * ((alpha + big_t) / (alpha + tx)) ** (
            r + x
        )
        value = value.copy()
        with np.errstate(all="ignore"):
            value[broken] = numerator / denominator
    # a + b + x - 1 ~ 0 with x >= 1 happens only in a degenerate fit (a few dozen customers, a and b ~ 0: p is
    # 0 or 1, and a repeat buyer's is 0). The equation is 0 x infinity there: use its limit, a customer who
    # stays and buys at their posterior rate (r + x) / (alpha + T).
    singular = (all_x >= 1) & ((np.abs(a + b + all_x - 1) < 1e-6) | ~np.isfinite(value))
    if singular.any():
        value = value.copy()
        value[singular] = (r + all_x[singular]) / (alpha + all_t[singular]) * horizon
    return value


def lifetime_value(
    bgf, order_value: np.ndarray, frequency, recency, t, months: int, discount_rate: float
) -> np.ndarray:
    """Discounted value of the next ``months`` 30-day months: per month, the expected purchases in it times the
    expected order value, over (1 + discount_rate)^month (lifetimes' ``customer_lifetime_value`` with daily
    time, on the NaN-free purchase expectation above)."""
    total = np.zeros(len(np.asarray(frequency)), dtype="float64")
    previous = np.zeros_like(total)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bgf, 30.0 * month, frequency, recency, t)
        total += (
            np.asarray(order_value, dtype="float64") * (cumulative - previous) / (1 + discount_rate) ** month
        )
        previous = cumulative
    return total


def predict_purchases(summary: pd.DataFrame, models: FittedModels, horizon_days: int) -> pd.DataFrame:
    """The summary with BG/NBD's expected purchases, probability alive and churn risk over ``horizon_days``."""
    bgf = models.purchases
    frequency, recency, t = summary["frequency"], summary["recency"], summary["t"]
    frame = summary.loc[:, list(SUMMARY_COLUMNS)].reset_index(drop=True)
    frame["expected_purchases"] = expected_purchases(bgf, horizon_days, frequency, recency, t)
    alive = np.asarray(bgf.conditional_probability_alive(frequency, recency, t), dtype="float64")
    frame["probability_alive"] = alive
    frame["churn_risk"] = probability_no_purchase(
        bgf.params_.to_dict(), alive, frequency.to_numpy(), t.to_numpy(), horizon_days
    )
    return frame


def score_customers(
    summary: pd.DataFrame,
    models: FittedModels,
    horizon_days: int,
    discount_rate: float,
    snapshot: pd.Timestamp,
) -> pd.DataFrame:
    """The CLV mart's rows (``CLV_COLUMNS``): expected purchases and churn risk over ``horizon_days``,
    probability alive, expected order value (Gamma-Gamma; the population mean without repeat purchases) and
    the 12-month CLV at a monthly ``discount_rate``."""
    bgf = models.purchases
    frequency, recency, t = summary["frequency"], summary["recency"], summary["t"]
    frame = predict_purchases(summary, models, horizon_days)
    frame["expected_order_value"] = order_values(models, frequency, summary["monetary"])
    frame["clv_12m"] = lifetime_value(
        bgf, frame["expected_order_value"].to_numpy(), frequency, recency, t, CLV_MONTHS, discount_rate
    )
    frame["horizon_days"] = int(horizon_days)
    frame["snapshot_date"] = snapshot
    return frame.loc[:, list(CLV_COLUMNS)]


@dataclass
class ClvEvaluation:
    """The model against its baselines on one time split: metrics, deciles and the fitted models."""

    metrics: pd.DataFrame
    deciles: pd.DataFrame
    models: FittedModels
    customers: int


def evaluate(
    days: pd.DataFrame, split: TimeSplit, penalizer_coef: float = 0.0, deciles: int = 10
) -> ClvEvaluation:
    """Fit on the calibration period, predict the holdout, compare with the naive baselines (SPEC 4.4).

    Customers: those with a purchase day before the cutoff. Actual purchases: their purchase days in the
    holdout. Baselines: the past rate ``frequency / T x horizon`` for purchases, days since the last purchase
    (``T - recency``) for churn.
    """
    summary = summarize(days, split.cutoff)
    models = fit_models(summary, penalizer_coef, order_value=False)
    scored = predict_purchases(summary, models, split.horizon_days)
    holdout = days[split.in_holdout(days["day"])].groupby("customer_id")["day"].nunique()
    actual = scored["customer_id"].map(holdout).fillna(0).to_numpy(dtype="float64")
    predicted = scored["expected_purchases"].to_numpy(dtype="float64")
    naive = (scored["frequency"] / scored["t"].clip(lower=1) * split.horizon_days).to_numpy(dtype="float64")
    churned = actual == 0
    days_since_last = (scored["t"] - scored["recency"]).to_numpy(dtype="float64")
    rows = [
        ("purchases_mae", mean_absolute_error(predicted, actual), mean_absolute_error(naive, actual), None,
         "past rate: frequency / T x horizon", "lower"),
        ("purchases_rmse", root_mean_squared_error(predicted, actual), root_mean_squared_error(naive, actual),
         None, "past rate: frequency / T x horizon", "lower"),
        ("churn_auc", roc_auc(scored["churn_risk"], churned), roc_auc(days_since_last, churned), None,
         "days since the last purchase", "higher"),
        ("total_purchases", float(predicted.sum()), float(naive.sum()), float(actual.sum()),
         "past rate: frequency / T x horizon", "closer"),
    ]  # fmt: skip
    metrics = pd.DataFrame(
        rows, columns=["metric", "model_value", "baseline_value", "actual_value", "baseline", "better"]
    )
    metrics["model_beats_baseline"] = [_beats(row) for row in metrics.itertuples()]
    metrics["customers"] = len(scored)
    metrics["calibration_end"] = split.cutoff
    metrics["snapshot_date"] = pd.Timestamp(split.snapshot)
    metrics["horizon_days"] = split.horizon_days
    table = decile_table(pd.Series(predicted), pd.Series(naive), pd.Series(actual), deciles)
    return ClvEvaluation(metrics, table, models, len(scored))


def _beats(row) -> bool | None:
    model, baseline = row.model_value, row.baseline_value
    if np.isnan(model) or np.isnan(baseline):
        return None
    if row.better == "lower":
        return bool(model < baseline)
    if row.better == "higher":
        return bool(model > baseline)
    return bool(abs(model - row.actual_value) < abs(baseline - row.actual_value))
