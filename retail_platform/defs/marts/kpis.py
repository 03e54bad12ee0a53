"""Sales marts built in SQL: invoice amount statistics, monthly KPIs (SPEC 4.1-4.2) and the daily, country
and product views analysts expect beside them. Each is its own asset; they read only what the clean/order_lines
asset builds (its lines and, for all but ``daily_sales``, its compact facts), so the tables of a step are built
concurrently (see ``sql_tables_asset``).

``monthly_kpis`` and ``daily_sales`` have a month's grain and are partitioned by month like
``clean/order_lines`` (step ``monthly_marts``): a run over some months rebuilds those months. A month's KPIs
read the month before it (growth), which the partition mapping says, and the customers' first months (the
``clean.customer_months`` fact). The three global marts (step ``sales_marts``) are unpartitioned.
"""

import dagster as dg

from retail_platform.defs.cleaning.assets import order_lines
from retail_platform.defs.sql_assets import SqlTable, sql_tables_asset

INVOICE_AMOUNT_STATS = SqlTable(
    "marts.invoice_amount_stats",
    "Invoice amount distribution (SPEC 4.1): count, min, mean, median, mode, max and 85th percentile, for all "
    "invoices with a positive amount and without outliers (amount <= the 85th percentile). Grain: one row per "
    "variant.",
)
MONTHLY_KPIS = SqlTable(
    "marts.monthly_kpis",
    "Monthly KPIs (SPEC 4.2): placed and canceled orders, net sales and growth, active, new and existing "
    "customers. Grain: one calendar month (column month = its first day). Partitioned by month.",
    order_by="month",
    deps=(dg.AssetDep(order_lines.key, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1)),),
    month_column="month",
)
DAILY_SALES = SqlTable(
    "marts.daily_sales",
    "Invoices, lines, units, net sales and customers per day. Grain: one day with lines. Partitioned by "
    "month.",
    order_by="day",
    deps=(dg.AssetDep(order_lines.key),),
    month_column="day",
)
SALES_BY_COUNTRY = SqlTable(
    "marts.sales_by_country",
    "Invoices, customers, net sales, share of sales and cancellations per country. Grain: one country.",
    order_by="country",
)
TOP_PRODUCTS = SqlTable(
    "marts.top_products",
    "The 100 products with the highest net sales (net of cancellations; postage, fees and other non-product "
    "codes excluded). Grain: one product.",
    order_by="rank",
)
SALES_MARTS = (INVOICE_AMOUNT_STATS, MONTHLY_KPIS, DAILY_SALES, SALES_BY_COUNTRY, TOP_PRODUCTS)

MONTHLY_MARTS = (MONTHLY_KPIS, DAILY_SALES)
GLOBAL_MARTS = (INVOICE_AMOUNT_STATS, SALES_BY_COUNTRY, TOP_PRODUCTS)

monthly_marts = sql_tables_asset("monthly_marts", MONTHLY_MARTS, deps=[], group_name="marts", monthly=True)
sales_marts = sql_tables_asset("sales_marts", GLOBAL_MARTS, deps=[order_lines.key], group_name="marts")
