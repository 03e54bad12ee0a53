"""The clean layer: ``clean.order_lines``, built in SQL from ``raw.transactions`` (fed by the landing files and
by the shop's OLTP extract), partitioned by month: a run over some months rebuilds those months' lines and
their rows of the ``clean.customer_months`` fact and of the compact facts the global marts read
(``clean.invoice_facts``, ``clean.product_months``, ``clean.product_descriptions``: migration 018,
``sql/transforms/clean/order_facts.sql``), in one transaction."""

from retail_platform.defs.ingestion.assets import RAW_TRANSACTIONS
from retail_platform.defs.ingestion.oltp_assets import RAW_SHOP_ORDERS
from retail_platform.defs.sql_assets import sql_table_asset

order_lines = sql_table_asset(
    "clean.order_lines",
    deps=[RAW_TRANSACTIONS, RAW_SHOP_ORDERS],
    group_name="clean",
    # the preview's order: invoice_month has a B-tree (migration 019); line_id has none since migration 021,
    # and sorting ten million lines for a ten-row preview took 0.9 s of every refresh
    order_by="invoice_month",
    month_column="invoice_month",
    facts=("clean.order_facts",),
    row_count_query="order_lines_row_count",
    description="One valid invoice line (grain: a raw.transactions line), typed, with amount = quantity x "
    "unit_price and the flags is_cancellation (invoice 'C...'), is_adjustment (invoice 'A...') and "
    "is_non_product (postage, fees, manual entries, tests, vouchers). Partitioned by calendar month of "
    "invoice_date; also maintains the facts clean.customer_months (one customer x month with lines), "
    "clean.invoice_facts (one invoice x month x customer x country), clean.product_months (one product x "
    "month) and clean.product_descriptions, which the global marts read instead of the lines.",
)
