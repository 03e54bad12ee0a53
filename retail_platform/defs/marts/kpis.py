"""Sales marts built in SQL: invoice amount statistics, monthly KPIs (SPEC 4.1-4.2) and the daily, country
and product views analysts expect beside them."""

import dagster as dg

from retail_platform.defs.sql_assets import sql_table_asset

ORDER_LINES = dg.AssetKey(["clean", "order_lines"])

invoice_amount_stats = sql_table_asset(
    "marts.invoice_amount_stats",
    deps=[ORDER_LINES],
    group_name="marts",
    description="Invoice amount distribution (SPEC 4.1): count, min, mean, median, mode, max and 85th "
    "percentile, for all invoices with a positive amount and without outliers (amount <= the 85th "
    "percentile). Grain: one row per variant.",
)
monthly_kpis = sql_table_asset(
    "marts.monthly_kpis",
    deps=[ORDER_LINES],
    group_name="marts",
    order_by="month",
    description="Monthly KPIs (SPEC 4.2): placed and canceled orders, net sales and growth, active, new and "
    "existing customers. Grain: one calendar month (column month = its first day).",
)
daily_sales = sql_table_asset(
    "marts.daily_sales",
    deps=[ORDER_LINES],
    group_name="marts",
    order_by="day",
    description="Invoices, lines, units, net sales and customers per day. Grain: one day with lines.",
)
sales_by_country = sql_table_asset(
    "marts.sales_by_country",
    deps=[ORDER_LINES],
    group_name="marts",
    order_by="country",
    description="Invoices, customers, net sales, share of sales and cancellations per country. Grain: one "
    "country.",
)
top_products = sql_table_asset(
    "marts.top_products",
    deps=[ORDER_LINES],
    group_name="marts",
    order_by="rank",
    description="The 100 products with the highest net sales (net of cancellations; postage, fees and other "
    "non-product codes excluded). Grain: one product.",
)
