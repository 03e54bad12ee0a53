"""Calendar months of ``invoice_date`` as Dagster partitions (README, *Monthly partitions*).

``MONTHS`` is a time-window partitioning (``MonthlyPartitionsDefinition``), not a dynamic one: months are a
fixed calendar known in advance, so the UI can offer any range of months for a backfill, a range is a single
run (``BackfillPolicy.single_run()``: one ``DELETE`` and ``INSERT`` of those months per table), and no code
has to register partitions as data arrives. It starts in January 2000 (the checks' earliest plausible invoice
date) and, with ``end_offset=1``, includes the current month, where the shop's orders land.

A run names its months as a partition key range (or one key); a run with neither (a job launched without a
partition, an older schedule) means every month: the tables are rebuilt in full, as before partitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg

MONTHS_START = "2000-01-01"
MONTHS = dg.MonthlyPartitionsDefinition(start_date=MONTHS_START, end_offset=1)
SINGLE_RUN = dg.BackfillPolicy.single_run()
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class MonthSpan:
    """The months a run rebuilds: ``start`` inclusive, ``end`` exclusive (first days); ``every`` when the run
    covers every partition (the full refresh), so the table may be rebuilt whole."""

    start: date
    end: date
    every: bool

    @property
    def params(self) -> dict[str, str]:
        """ISO dates: the month scripts read them back with ``current_setting(...)::date``."""
        return {"month_start": self.start.isoformat(), "month_end": self.end.isoformat()}


def all_month_keys() -> list[str]:
    return MONTHS.get_partition_keys()


def every_month_tags() -> dict[str, str]:
    """Run tags for a run over every month (the full refresh, the weekly schedule)."""
    keys = all_month_keys()
    return {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}


def month_range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags for the months ``first`` .. ``last`` (first days), clipped to the partitions."""
    keys = all_month_keys()
    start = max(first.isoformat(), keys[0])
    end = min(max(last.isoformat(), start), keys[-1])
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}


def run_months(context: dg.AssetExecutionContext) -> MonthSpan:
    """The months this run rebuilds (every month when it names none)."""
    keys = all_month_keys()
    if not (context.has_partition_key or context.has_partition_key_range):
        return MonthSpan(date.fromisoformat(keys[0]), _next_month(date.fromisoformat(keys[-1])), True)
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    # From the first month to the last is the full refresh; a job's default range computed when the code
    # location loaded may end a month early after a month boundary: still the full refresh.
    every = start.isoformat() <= keys[0] and end >= date.fromisoformat(keys[-1])
    return MonthSpan(start, end, every)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
