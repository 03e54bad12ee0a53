"""Check thresholds, from the environment with defaults (documented in the README)."""

import os
from datetime import timedelta


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# raw: warn when a file's share of rejected lines is above this
REJECTED_SHARE_WARN = _float("RETAIL_CHECK_REJECTED_SHARE_WARN", 0.01)
# clean: invoice dates before this are implausible (the shop opened long after)
EARLIEST_INVOICE_DATE = os.environ.get("RETAIL_CHECK_EARLIEST_INVOICE_DATE") or "2000-01-01"
# marts: warn when a table lost more than this share of its rows since the previous materialization
ROW_DROP_WARN_SHARE = _float("RETAIL_CHECK_ROW_DROP_WARN_SHARE", 0.5)
# freshness: raw data should arrive daily; the marts are refreshed after loads and weekly in full
RAW_FRESHNESS = timedelta(hours=_float("RETAIL_FRESHNESS_RAW_HOURS", 26))
MARTS_FRESHNESS = timedelta(hours=_float("RETAIL_FRESHNESS_MARTS_HOURS", 24 * 8))
