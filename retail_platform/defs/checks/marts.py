"""Checks on the KPI marts and the RFM marts (the RFM ones are blocking: segments and charts are not rebuilt
from scores that fail them)."""

from retail_platform.defs.checks.framework import sql_check, sql_checks
from retail_platform.defs.marts import kpis
from retail_platform.defs.marts.rfm import rfm_scores, rfm_segments

MONTHLY_KPIS = kpis.MONTHLY_KPIS.key
INVOICE_STATS = kpis.INVOICE_AMOUNT_STATS.key
RFM_SEGMENTS = rfm_segments.key

net_sales_reconcile = sql_check(
    MONTHLY_KPIS,
    "monthly_kpis_net_sales_reconcile",
    description="The months' net sales add up to the total amount of the clean layer (its invoice facts).",
)
customers_add_up = sql_check(
    MONTHLY_KPIS,
    "monthly_kpis_customers_add_up",
    description="active_customers = new_customers + existing_customers in every month.",
)
months_contiguous = sql_check(
    MONTHLY_KPIS,
    "monthly_kpis_months_contiguous",
    description="One row per month, on the first day, with no gap between the first and the last month.",
)
invoice_stats_ordered = sql_check(
    INVOICE_STATS,
    "invoice_amount_stats_ordered",
    description="Both variants present; min <= median <= p85 <= max and mean and mode within [min, max].",
)
rfm_one_row_per_customer = sql_check(
    rfm_scores.key,
    "rfm_scores_one_row_per_customer",
    description="Exactly one row per customer with purchase lines (SPEC 4.3).",
    blocking=True,
)
rfm_scores_valid = sql_check(
    rfm_scores.key,
    "rfm_scores_valid",
    description="Scores in 1..5, rfm_score equal to the three digits, recency >= 0, frequency >= 1, "
    "monetary > 0, segment one of the ten.",
    blocking=True,
)
rfm_segment_rule = sql_check(
    rfm_scores.key,
    "rfm_scores_segment_rule",
    description="Each customer's segment is the first SPEC 4.3 pattern matching its R and F scores.",
    blocking=True,
)
rfm_segments_add_up = sql_check(
    RFM_SEGMENTS,
    "rfm_segments_add_up",
    description="All ten segments listed; segment counts match rfm_scores and sum to the customer count.",
)

monthly_kpis_checks = sql_checks(
    "monthly_kpis_checks", [net_sales_reconcile, customers_add_up, months_contiguous]
)
invoice_amount_stats_checks = sql_checks("invoice_amount_stats_checks", [invoice_stats_ordered])
rfm_scores_checks = sql_checks(
    "rfm_scores_checks", [rfm_one_row_per_customer, rfm_scores_valid, rfm_segment_rule]
)
rfm_segments_checks = sql_checks("rfm_segments_checks", [rfm_segments_add_up])
