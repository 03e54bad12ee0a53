"""Calendar months of ``invoice_date`` as Dagster partitions (README, *Monthly partitions*).

``MONTHS`` is a time-window partitioning (``MonthlyPartitionsDefinition``), not a dynamic one: months are a
fixed calendar known in advance, so the UI can offer any range of months for a backfill, a range is a single
run (``BackfillPolicy.single_run()``: one ``DELETE`` and ``INSERT`` of those months per table), and no code
has to register partitions as data arrives. It starts at ``RETAIL_FIRST_MONTH`` (default 2000-01, safe for
any shop: the checks' earliest plausible invoice date) and, with ``end_offset=1``, includes the current month,
where the shop's orders land.

A run names its months as a partition key range (or one key), with ``month_range_tags()``; a run of a
backfill names them too. A full refresh (``every_month_tags()``: the schedule, ``retail-platform run``, a job
launched without choosing months, since the jobs carry those tags as defaults) is tagged
``retail/full_refresh``; ``is_full_refresh`` says which a run is:
its assets rebuild every month that holds data, found at run time after the run's own loads, and record a
materialization for each of those months, not for the ~320 empty months since 2000 (each costs event
writes: ``retail-platform run --sample-rows 3000`` recorded 996 materializations and took 119-126 s when every
month was recorded, 66 and 47-53 s now, back to back on a busy machine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

import dagster as dg

from retail_platform.settings import current_settings

MONTHS_START = f"{current_settings().first_month}-01"
MONTHS = dg.MonthlyPartitionsDefinition(start_date=MONTHS_START, end_offset=1)
SINGLE_RUN = dg.BackfillPolicy.single_run()
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"  # a run of one partition
FULL_REFRESH_TAG = "retail/full_refresh"  # "1": rebuild every month that holds data, whatever the range says
BACKFILL_TAG = "dagster/backfill"  # a run of a backfill: its months are the ones the backfill chose
# What a full refresh's transforms receive: every month, so the tables end up holding exactly what raw holds.
EVERY_MONTH_PARAMS = {"month_start": "-infinity", "month_end": "infinity"}


@dataclass(frozen=True)
class MonthSpan:
    """The months a run rebuilds: ``start`` inclusive, ``end`` exclusive (first days); ``every`` for a full
    refresh, which rebuilds every month that holds data (the transforms get infinite bounds)."""

    start: date
    end: date
    every: bool

    @property
    def params(self) -> dict[str, str]:
        """The transforms' bound parameters ``:month_start`` / ``:month_end`` (ISO dates or infinities). A span
        reaching the last partition (the current month) is open-ended: lines dated in the next month (shop
        time ahead of the server's UTC clock, ``RETAIL_MAX_DAYS_AHEAD``) have no partition yet, and a run
        that clipped them off would leave them out of the clean layer until the next full refresh."""
        if self.every:
            return dict(EVERY_MONTH_PARAMS)
        end = "infinity" if self.end > date.fromisoformat(all_month_keys()[-1]) else self.end.isoformat()
        return {"month_start": self.start.isoformat(), "month_end": end}

    @property
    def wide(self) -> bool:
        """More than two months: a refresh after a burst or a first deployment, not a day's drop."""
        return self.every or self.end > next_month(next_month(self.start))


@cache
def _month_keys(current_month: str) -> tuple[str, ...]:
    """Every partition key up to ``current_month``: computed once a month, not on every call (it walks the
    calendar from the first month, and sensors call it on every tick)."""
    return tuple(MONTHS.get_partition_keys())


def all_month_keys() -> list[str]:
    """The partition keys (first days, ISO), oldest first, up to the current month."""
    return list(_month_keys(datetime.now(UTC).strftime("%Y-%m")))


def every_month_tags() -> dict[str, str]:
    """Run tags of a full refresh (the schedule, the CLI, jobs launched without months): the current month as
    the run's range (where the shop's orders land) and ``FULL_REFRESH_TAG``, so the assets rebuild every month
    that holds data and record those months."""
    current = all_month_keys()[-1]
    return {RANGE_START_TAG: current, RANGE_END_TAG: current, FULL_REFRESH_TAG: "1"}


def month_range_tags(first: date, last: date) -> dict[str, str]:
    """Run tags for the months ``first`` .. ``last`` (first days), clipped to the partitions. They say
    ``FULL_REFRESH_TAG`` "0" outright: the jobs carry "1" as a default tag (a launch without months is a full
    refresh), and a run's own tags override its job's, so a run naming months rebuilds those months only."""
    keys = all_month_keys()
    start = max(first.isoformat(), keys[0])
    end = min(max(last.isoformat(), start), keys[-1])
    return {RANGE_START_TAG: start, RANGE_END_TAG: end, FULL_REFRESH_TAG: "0"}


def is_full_refresh(tags: Mapping[str, str]) -> bool:
    """A run that rebuilds every month holding data: tagged so (the jobs' default), unless it is one run of a
    backfill, which names its own months even when launched from a job whose default is every month."""
    return tags.get(FULL_REFRESH_TAG) == "1" and BACKFILL_TAG not in tags


def run_months(context: dg.AssetExecutionContext) -> MonthSpan:
    """The months this run rebuilds (every month that holds data for a full refresh or a run naming none)."""
    return months_of_run(context.run.tags)


def months_of_run(tags: Mapping[str, str]) -> MonthSpan:
    """The months a run covers, read from its tags: a partition range, one partition, or every month for a
    full refresh or a run naming none. The assets rebuild them (``run_months``) and the checks of a monthly
    table look at them (a check's context has no partition of its own): a day's refresh at 10,673,710 lines
    then checks its two months, not every line (issue 12)."""
    keys = all_month_keys()
    first, after_last = date.fromisoformat(keys[0]), next_month(date.fromisoformat(keys[-1]))
    start = tags.get(RANGE_START_TAG) or tags.get(PARTITION_TAG)
    end = tags.get(RANGE_END_TAG) or start
    if is_full_refresh(tags) or not start or not end:
        return MonthSpan(first, after_last, True)
    # A backfill of every partition is a full refresh too; a job's default range computed when the code
    # location loaded may end a month early after a month boundary: still every month.
    every = start <= keys[0] and end >= keys[-2 if len(keys) > 1 else -1]
    return MonthSpan(date.fromisoformat(start), next_month(date.fromisoformat(end)), every)


def month_keys_between(first: date | None, last: date | None) -> list[str]:
    """The partition keys of the months ``first`` .. ``last`` (any days in them), none when either is None."""
    if first is None or last is None:
        return []
    low, high = first.replace(day=1).isoformat(), last.replace(day=1).isoformat()
    return [key for key in all_month_keys() if low <= key <= high]


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
