"""The time split and the metrics the predictions are judged by (SPEC 4.4, 4.5): MAE, ROC AUC, predicted vs
actual by decile, hit rate at k. Pure numpy/pandas, so each metric can be checked on cases small enough to
compute by hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TimeSplit:
    """Calibration = everything before ``snapshot - horizon_days``; holdout = the last ``horizon_days``."""

    snapshot: pd.Timestamp
    horizon_days: int

    def __post_init__(self) -> None:
        if self.horizon_days < 1:
            raise ValueError(f"horizon_days must be at least 1, got {self.horizon_days}")

    @property
    def cutoff(self) -> pd.Timestamp:
        return pd.Timestamp(self.snapshot) - pd.Timedelta(days=self.horizon_days)

    def in_holdout(self, when: pd.Series) -> pd.Series:
        return (when >= self.cutoff) & (when < pd.Timestamp(self.snapshot))


def mean_absolute_error(predicted: np.ndarray | pd.Series, actual: np.ndarray | pd.Series) -> float:
    predicted, actual = np.asarray(predicted, dtype="float64"), np.asarray(actual, dtype="float64")
    if predicted.shape != actual.shape:
        raise ValueError("predicted and actual differ in length")
    return float(np.mean(np.abs(predicted - actual))) if predicted.size else float("nan")


def root_mean_squared_error(predicted: np.ndarray | pd.Series, actual: np.ndarray | pd.Series) -> float:
    predicted, actual = np.asarray(predicted, dtype="float64"), np.asarray(actual, dtype="float64")
    if predicted.shape != actual.shape:
        raise ValueError("predicted and actual differ in length")
    return float(np.sqrt(np.mean((predicted - actual) ** 2))) if predicted.size else float("nan")


def roc_auc(scores: np.ndarray | pd.Series, positive: np.ndarray | pd.Series) -> float:
    """The probability that a random positive scores above a random negative (ties count half): the
    Mann-Whitney U statistic over average ranks. NaN when either class is empty."""
    scores = np.asarray(scores, dtype="float64")
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def decile_table(
    predicted: pd.Series, baseline: pd.Series, actual: pd.Series, deciles: int = 10
) -> pd.DataFrame:
    """Customers in ``deciles`` equal groups by predicted value (1 = lowest; ties by order), with the mean
    predicted, baseline and actual value of each group."""
    frame = pd.DataFrame(
        {
            "predicted": np.asarray(predicted, dtype="float64"),
            "baseline": np.asarray(baseline, dtype="float64"),
            "actual": np.asarray(actual, dtype="float64"),
        }
    )
    columns = ["decile", "customers", "predicted_purchases", "baseline_purchases", "actual_purchases"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    groups = min(deciles, len(frame))
    order = frame["predicted"].rank(method="first")
    frame["decile"] = pd.qcut(order, groups, labels=list(range(1, groups + 1))).astype("int64")
    table = frame.groupby("decile", sort=True).agg(
        customers=("predicted", "size"),
        predicted_purchases=("predicted", "mean"),
        baseline_purchases=("baseline", "mean"),
        actual_purchases=("actual", "mean"),
    )
    return table.reset_index().loc[:, columns]


def hit_rate(recommended: pd.DataFrame, wanted: pd.DataFrame) -> tuple[int, int, float]:
    """Hit rate at k: of the customers in ``wanted`` (customer_id, stock_code: products new to them that they
    bought in the holdout), the share with at least one of them in ``recommended`` (customer_id, stock_code).
    Returns (customers, hits, rate)."""
    customers = wanted["customer_id"].nunique()
    if customers == 0:
        return 0, 0, float("nan")
    matched = wanted.merge(
        recommended.loc[:, ["customer_id", "stock_code"]], on=["customer_id", "stock_code"]
    )
    hits = matched["customer_id"].nunique()
    return int(customers), int(hits), hits / customers
