"""Charts of the customer-intelligence evaluation, in the style of ``charts.py`` (its palette and helpers).

Pure plotting: pandas in, PNG out, no pyplot (safe in concurrent runs); empty input draws "No data yet".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from retail_platform.analytics.chart_style import (
    HIGHLIGHT,
    PRIMARY,
    SECONDARY,
    header_legend,
    headroom,
    is_empty,
    new_figure,
    no_data,
    save,
    to_float,
)

__all__ = ["plot_clv_deciles"]


def plot_clv_deciles(deciles: pd.DataFrame, evaluation: pd.DataFrame, path: Path | str) -> Path:
    """Mean holdout purchases per customer by decile of predicted purchases: the model's prediction, the
    past-rate baseline and what happened, so calibration (and where the model is off) shows at a glance."""
    title = "Predicted vs actual purchases in the holdout, by decile"
    if is_empty(deciles):
        return no_data(title, path, "the evaluation has no customers")
    df = pd.DataFrame(
        {
            "decile": to_float(deciles["decile"]).astype(int),
            "predicted": to_float(deciles["predicted_purchases"]),
            "baseline": to_float(deciles["baseline_purchases"]),
            "actual": to_float(deciles["actual_purchases"]),
            "customers": to_float(deciles["customers"]),
        }
    ).sort_values("decile")
    fig, (ax,) = new_figure(title, _subtitle(evaluation, int(np.nansum(df["customers"]))))
    x = np.arange(len(df))
    width = 0.28
    ax.bar(x - width, df["predicted"], width, color=PRIMARY, label="BG/NBD predicted")
    ax.bar(x, df["baseline"], width, color=SECONDARY, label="Baseline (past rate)")
    ax.bar(x + width, df["actual"], width, color=HIGHLIGHT, label="Actual")
    ax.set_xticks(x, [str(d) for d in df["decile"]])
    ax.set_xlabel("Decile of predicted purchases (1 = lowest)", fontsize=10)
    ax.set_ylabel("Purchase days per customer", fontsize=10)
    headroom(ax)
    header_legend(fig, ax=ax)
    return save(fig, path)


def _subtitle(evaluation: pd.DataFrame, customers: int) -> str:
    """Split and headline metrics, e.g. 'holdout 2010-09-11 to 2010-12-10 · MAE 0.97 (baseline 0.95)'."""
    if is_empty(evaluation):
        return f"{customers:,} customers"
    rows = evaluation.set_index("metric")
    first = rows.iloc[0]
    parts = [
        f"{customers:,} customers",
        f"holdout {pd.Timestamp(first['calibration_end']):%Y-%m-%d} to {pd.Timestamp(first['snapshot_date']):%Y-%m-%d}",
    ]
    for metric, label in (("purchases_mae", "MAE"), ("churn_auc", "churn AUC")):
        if metric in rows.index:
            model, baseline = float(rows.at[metric, "model_value"]), float(rows.at[metric, "baseline_value"])
            parts.append(f"{label} {model:.3f} (baseline {baseline:.3f})")
    return " \u00b7 ".join(parts)
