"""Checks on every customer-intelligence table and chart: SQL checks (``sql/checks/``), the evaluations
against their baselines (WARN: a model that stops beating its baseline raises an alert, it does not block
the marts), the chart's PNG, and the schema-change and row-drop checks the other marts have."""

import warnings

import dagster as dg

from retail_platform.defs.checks import charts as chart_checks
from retail_platform.defs.checks import history
from retail_platform.defs.checks.framework import sql_check, sql_checks
from retail_platform.defs.predictions import charts as prediction_charts
from retail_platform.defs.predictions.actions import CUSTOMER_ACTIONS
from retail_platform.defs.predictions.clv import (
    CLV_EVALUATION_DECILES,
    CLV_MODEL_EVALUATION,
    CUSTOMER_LIFETIME_VALUE,
)
from retail_platform.defs.predictions.recommendations import (
    PRODUCT_RECOMMENDATIONS,
    RECOMMENDATION_EVALUATION,
)

WARN = dg.AssetCheckSeverity.WARN
PREDICTION_MARTS = [
    CUSTOMER_LIFETIME_VALUE,
    CLV_MODEL_EVALUATION,
    CLV_EVALUATION_DECILES,
    PRODUCT_RECOMMENDATIONS,
    RECOMMENDATION_EVALUATION,
    CUSTOMER_ACTIONS,
]

_sql_checks = [
    sql_check(
        CUSTOMER_LIFETIME_VALUE,
        "customer_lifetime_value_one_row_per_customer",
        description="Exactly one row per customer with purchase lines before the snapshot, one snapshot.",
        blocking=True,
    ),
    sql_check(
        CUSTOMER_LIFETIME_VALUE,
        "customer_lifetime_value_valid",
        description="BTYD inputs consistent (recency <= t; no repeat purchase: recency and monetary 0); "
        "probabilities in 0..1; expected purchases, order value and CLV positive and finite.",
        blocking=True,
    ),
    sql_check(
        CLV_MODEL_EVALUATION,
        "clv_model_evaluation_beats_baselines",
        description="BG/NBD beats both baselines on the holdout: lower purchases MAE than the past rate, higher "
        "churn AUC than days since the last purchase.",
        severity=WARN,
    ),
    sql_check(
        CLV_EVALUATION_DECILES,
        "clv_evaluation_deciles_add_up",
        description="Deciles 1..10 without gaps, sizes within one of each other, adding up to the evaluation's "
        "customers.",
    ),
    sql_check(
        PRODUCT_RECOMMENDATIONS,
        "product_recommendations_valid",
        description="Every scored customer has a list ranked 1..n (n <= 10), never a non-product code, never a "
        "product they already bought.",
        blocking=True,
    ),
    sql_check(
        RECOMMENDATION_EVALUATION,
        "recommendation_evaluation_beats_popularity",
        description="Co-purchase similarity has a higher hit rate at 10 than popularity alone on the holdout.",
        severity=WARN,
    ),
    sql_check(
        CUSTOMER_ACTIONS,
        "customer_actions_valid",
        description="One action per scored customer, named by its rule, with a reason and the customer's top 3 "
        "recommended stock codes.",
    ),
]

# one step per table: its checks run together after it
prediction_sql_checks = [
    sql_checks(f"{key.path[-1]}_checks", [check for check in _sql_checks if check.asset == key])
    for key in PREDICTION_MARTS
]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    prediction_schema_checks = list(dg.build_column_schema_change_checks(assets=PREDICTION_MARTS))

prediction_row_drop_checks = [
    history.row_count_drop_checks("prediction_row_count_drop_checks", PREDICTION_MARTS)
]
prediction_png_checks = [
    chart_checks.png_valid_checks("prediction_png_checks", [prediction_charts.clv_purchases_by_decile.key])
]
