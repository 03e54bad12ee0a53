"""Checks on the raw layer: per-file accounting and the share of rejected lines."""

import dagster as dg

from retail_platform.defs.checks.framework import sql_check, sql_checks
from retail_platform.defs.ingestion.assets import RAW_FILE_LOADS, RAW_REJECTED_LINES, RAW_TRANSACTIONS
from retail_platform.settings import current_settings

REJECTED_SHARE_WARN = current_settings().checks.rejected_share_warn

file_accounting = sql_check(
    RAW_FILE_LOADS,
    "raw_file_accounting",
    description="Every file's lines are accounted for: read = loaded + already present + rejected, and the "
    "loaded count equals the rows in raw.transactions carrying the file's load id.",
)
rejected_share = sql_check(
    RAW_TRANSACTIONS,
    "raw_rejected_share",
    description=f"No file has more than {REJECTED_SHARE_WARN:.1%} rejected lines "
    "(RETAIL_CHECK_REJECTED_SHARE_WARN); warns, since the good lines loaded.",
    severity=dg.AssetCheckSeverity.WARN,
    params=lambda: {"threshold": REJECTED_SHARE_WARN},
)
rejected_lines_explained = sql_check(
    RAW_REJECTED_LINES,
    "raw_rejected_lines_explained",
    description="Every rejected line has a reason and a ledger row; no file lists more rejected lines than it "
    "counted.",
)

raw_checks = sql_checks("raw_checks", [file_accounting, rejected_share, rejected_lines_explained])
