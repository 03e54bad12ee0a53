"""Checks on ``clean.order_lines``. The ERROR ones are blocking: when one fails, the marts downstream are not
rebuilt in that run and keep their previous contents. Each checks the months its run rebuilt (``monthly``):
the months a run did not touch were checked when they were last built."""

import dagster as dg

from retail_platform.defs.checks.framework import sql_check, sql_checks
from retail_platform.defs.cleaning.assets import order_lines
from retail_platform.settings import current_settings

EARLIEST_INVOICE_DATE = current_settings().checks.earliest_invoice_date
IMPLAUSIBLE_DATES_MAX_SHARE = current_settings().checks.implausible_dates_max_share

keys_not_null = sql_check(
    order_lines.key,
    "clean_keys_not_null",
    description="Invoice, stock code, date and country are present on every line.",
    blocking=True,
    monthly=True,
)
amount_consistent = sql_check(
    order_lines.key,
    "clean_amount_consistent",
    description="amount = quantity x unit_price on every line, exactly.",
    blocking=True,
    monthly=True,
)
dates_plausible = sql_check(
    order_lines.key,
    "clean_dates_plausible",
    description=f"At most {IMPLAUSIBLE_DATES_MAX_SHARE:.1%} of the lines (RETAIL_CHECK_IMPLAUSIBLE_DATES_MAX_SHARE) "
    f"are dated before {EARLIEST_INVOICE_DATE} (RETAIL_CHECK_EARLIEST_INVOICE_DATE) or after tomorrow: a "
    "systemic failure (a clock or export bug). Single implausible lines are rejected at load "
    "(RETAIL_FIRST_PLAUSIBLE_DATE) and never stop the marts.",
    blocking=True,
    params=lambda: {"earliest": EARLIEST_INVOICE_DATE, "max_share": IMPLAUSIBLE_DATES_MAX_SHARE},
    monthly=True,
)
covers_raw = sql_check(
    order_lines.key,
    "clean_covers_raw",
    description="Every raw line is a clean line and vice versa (rejected lines never reach raw).",
    blocking=True,
    monthly=True,
)
cancellations_negative = sql_check(
    order_lines.key,
    "clean_cancellations_negative",
    description="Cancelled product lines have a negative quantity (warns: manual entries are exempt).",
    severity=dg.AssetCheckSeverity.WARN,
    monthly=True,
)

order_lines_checks = sql_checks(
    "order_lines_checks",
    [keys_not_null, amount_consistent, dates_plausible, covers_raw, cancellations_negative],
)
