"""Tests of the customer-intelligence assets, checks and the web application's role (retail_platform/defs/predictions/, retail_platform/warehouse/roles.py)."""

PREDICTION_TABLES = [
    "marts.customer_lifetime_value",
    "marts.clv_model_evaluation",
    "marts.clv_evaluation_deciles",
    "marts.product_recommendations",
    "marts.recommendation_evaluation",
    "marts.customer_actions",
]
