"""Lifetime value and churn risk (SPEC 4.4): the mart and its evaluation on a time split, as assets."""

import dagster as dg
import pandas as pd

from retail_platform.analytics import clv
from retail_platform.defs.cleaning import assets as cleaning
from retail_platform.defs.predictions import common
from retail_platform.defs.predictions.common import SplitConfig, floats, mart_spec, read_frame, replace_table
from retail_platform.defs.resources import WarehouseResource

CUSTOMER_LIFETIME_VALUE = dg.AssetKey(["marts", "customer_lifetime_value"])
CLV_MODEL_EVALUATION = dg.AssetKey(["marts", "clv_model_evaluation"])
CLV_EVALUATION_DECILES = dg.AssetKey(["marts", "clv_evaluation_deciles"])
_MEASURED = ("metric", "model_value", "baseline_value", "actual_value", "baseline", "better")
METRIC_COLUMNS = (*_MEASURED, "model_beats_baseline", "customers", *common.SPLIT_COLUMNS)
DECILE_COLUMNS = ("decile", "customers", "predicted_purchases", "baseline_purchases", "actual_purchases")


class ClvConfig(SplitConfig):
    """``discount_rate``: monthly, for the 12-month CLV. ``penalizer_coef``: L2 penalty of the BG/NBD fit
    (lifetimes' ``penalizer_coef``; 0 = plain maximum likelihood)."""

    discount_rate: float = 0.01
    penalizer_coef: float = 0.0


class ClvEvaluationConfig(SplitConfig):
    """The time split: fit before ``snapshot - horizon_days``, judge on the last ``horizon_days``."""

    penalizer_coef: float = 0.0


def _purchase_days(warehouse: WarehouseResource) -> pd.DataFrame:
    """One row per customer and purchase day, typed chunk by chunk as it streams in."""
    types = {"customer_id": "int64", "day": "datetime64[ns]", "amount": "float64"}
    return clv.purchase_days(read_frame(warehouse.get_engine(), "clv_purchase_days.sql", types))


@dg.asset(
    key=CUSTOMER_LIFETIME_VALUE,
    deps=[cleaning.order_lines.key],
    group_name="marts",
    kinds={"postgres", "pandas"},
    description="Lifetime value and churn risk per customer with purchases (SPEC 4.4): BG/NBD expected "
    "purchases, probability alive and churn risk (P(no purchase) over horizon_days), Gamma-Gamma expected "
    "order value and the 12-month CLV. Fitted with lifetimes on purchase days. Grain: one customer.",
)
def customer_lifetime_value(
    context: dg.AssetExecutionContext, config: ClvConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    days = _purchase_days(warehouse)
    if days.empty:
        metadata = replace_table(
            warehouse.get_engine(),
            "marts.customer_lifetime_value",
            pd.DataFrame(columns=clv.CLV_COLUMNS),
            clv.CLV_COLUMNS,
        )
        return dg.MaterializeResult(metadata=metadata)
    snapshot = config.snapshot(clv.default_snapshot(days["day"]))
    summary = clv.summarize(days, snapshot)
    try:
        models = clv.fit_models(summary, config.penalizer_coef)
    except ValueError as error:  # too few customers to fit: an empty mart, and its checks say so
        context.log.warning(f"No CLV model: {error}")
        empty = pd.DataFrame(columns=clv.CLV_COLUMNS)
        metadata = replace_table(
            warehouse.get_engine(), "marts.customer_lifetime_value", empty, clv.CLV_COLUMNS
        )
        metadata["model"] = dg.MetadataValue.text(f"not fitted: {error}")
        return dg.MaterializeResult(metadata=metadata)
    scored = clv.score_customers(summary, models, config.horizon_days, config.discount_rate, snapshot)
    context.log.info(
        f"Fitted BG/NBD in {models.purchases_fit_s:.2f} s and Gamma-Gamma in {models.order_value_fit_s:.2f} s "
        f"on {len(summary):,} customers: {models.parameters()}"
    )
    metadata = replace_table(
        warehouse.get_engine(),
        "marts.customer_lifetime_value",
        scored,
        clv.CLV_COLUMNS,
        order_by="customer_id",
    )
    metadata.update(
        {
            "snapshot_date": dg.MetadataValue.text(str(snapshot.date())),
            "horizon_days": dg.MetadataValue.int(config.horizon_days),
            "parameters": dg.MetadataValue.json(models.parameters()),
            "order_value_model": dg.MetadataValue.text(
                "Gamma-Gamma"
                if models.order_value is not None
                else "observed means (Gamma-Gamma did not fit)"
            ),
            **floats(
                {
                    "bgnbd_fit_seconds": models.purchases_fit_s,
                    "gamma_gamma_fit_seconds": models.order_value_fit_s,
                    "expected_purchases_total": scored["expected_purchases"].sum(),
                    "mean_churn_risk": scored["churn_risk"].mean(),
                    "clv_12m_total": scored["clv_12m"].sum(),
                }
            ),
        }
    )
    return dg.MaterializeResult(metadata=metadata)


@dg.multi_asset(
    name="clv_model_evaluation",
    specs=[
        mart_spec(
            CLV_MODEL_EVALUATION,
            deps=[cleaning.order_lines.key],
            model_kind="pandas",
            description="BG/NBD judged on a time split (SPEC 4.4; snapshot and horizon are run config): "
            "per-customer MAE of predicted vs actual holdout purchases against the past rate, churn AUC "
            "against days since the last purchase, predicted vs actual total purchases. Grain: one metric.",
        ),
        mart_spec(
            CLV_EVALUATION_DECILES,
            deps=[cleaning.order_lines.key],
            model_kind="pandas",
            description="The evaluation's customers in ten groups by predicted holdout purchases: mean "
            "predicted, baseline and actual purchases. Grain: one decile.",
        ),
    ],
)
def clv_model_evaluation(
    context: dg.AssetExecutionContext, config: ClvEvaluationConfig, warehouse: WarehouseResource
):
    days = _purchase_days(warehouse)
    engine = warehouse.get_engine()
    result = None
    if not days.empty:
        split = config.split(clv.default_snapshot(days["day"]))
        try:
            result = clv.evaluate(days, split, config.penalizer_coef)
        except ValueError as error:  # too few calibration customers to fit: no evaluation, its check fails
            context.log.warning(f"No CLV evaluation: {error}")
    if result is None:
        empty_metrics = pd.DataFrame(columns=METRIC_COLUMNS)
        yield dg.MaterializeResult(
            asset_key=CLV_MODEL_EVALUATION,
            metadata=replace_table(engine, "marts.clv_model_evaluation", empty_metrics, METRIC_COLUMNS),
        )
        empty_deciles = pd.DataFrame(columns=DECILE_COLUMNS)
        yield dg.MaterializeResult(
            asset_key=CLV_EVALUATION_DECILES,
            metadata=replace_table(engine, "marts.clv_evaluation_deciles", empty_deciles, DECILE_COLUMNS),
        )
        return
    by_metric = result.metrics.set_index("metric")
    context.log.info(f"CLV evaluation on {result.customers:,} customers:\n{result.metrics.to_string()}")
    metadata = replace_table(
        engine, "marts.clv_model_evaluation", result.metrics, METRIC_COLUMNS, order_by="metric"
    )
    metadata.update(
        {
            "calibration_end": dg.MetadataValue.text(str(split.cutoff.date())),
            "snapshot_date": dg.MetadataValue.text(str(pd.Timestamp(split.snapshot).date())),
            "customers": dg.MetadataValue.int(result.customers),
            "parameters": dg.MetadataValue.json(result.models.parameters()),
            **floats(
                {
                    "mae_model": by_metric.at["purchases_mae", "model_value"],
                    "mae_baseline": by_metric.at["purchases_mae", "baseline_value"],
                    "auc_model": by_metric.at["churn_auc", "model_value"],
                    "auc_baseline": by_metric.at["churn_auc", "baseline_value"],
                    "total_predicted": by_metric.at["total_purchases", "model_value"],
                    "total_actual": by_metric.at["total_purchases", "actual_value"],
                    "bgnbd_fit_seconds": result.models.purchases_fit_s,
                }
            ),
        }
    )
    yield dg.MaterializeResult(asset_key=CLV_MODEL_EVALUATION, metadata=metadata)
    deciles = replace_table(
        engine, "marts.clv_evaluation_deciles", result.deciles, DECILE_COLUMNS, order_by="decile"
    )
    yield dg.MaterializeResult(asset_key=CLV_EVALUATION_DECILES, metadata=deciles)
