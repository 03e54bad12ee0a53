"""Issue 12's latency figures, in a running ``retail-platform ui`` (webserver, daemon, code server; embedded
PostgreSQL; the product's default sensor intervals) on a fresh RETAIL_HOME holding a warehouse of ``--rows``
generated lines:

1. one day's file dropped into the landing folder: the time from the drop until the downstream refresh after
   its load has finished (the marts and charts show the day), for each of the last ``--days`` days;
2. one order written to the shop's database by ``retail-platform simulate-shop --orders 1``: the time from the
   write until the refresh after its extract has finished, ``--days`` times.

Medians are printed with every figure. Slow (a million lines, a live daemon): run it alone, never in the test
suite.

    .venv/bin/python scripts/drop_to_marts.py [--home /tmp/rp_latency/home] [--rows 1067371] [--days 3]
"""

from __future__ import annotations

import datetime
import statistics
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acceptance_event_driven import fresh_home, log, scalar, script_parser, simulate_shop, start_ui, wait_for


def refreshed_after(instance, moment: float):
    """The successful downstream refresh that started after ``moment``, once no refresh is running."""
    import dagster as dg

    runs = instance.get_run_records(dg.RunsFilter(tags={"retail/trigger": "downstream_refresh"}))
    busy = [r for r in runs if not r.end_time]
    done = [r for r in runs if r.start_time and r.start_time > moment and r.end_time]
    if busy or not done:
        return None
    if any(r.dagster_run.status != dg.DagsterRunStatus.SUCCESS for r in done):
        raise RuntimeError(f"a refresh failed: {[r.dagster_run.run_id for r in done]}")
    return max(r.end_time for r in done)


def finished_run_after(instance, job_name: str, moment: float):
    """The end of the last run of ``job_name`` that started after ``moment``, once it has ended."""
    import dagster as dg

    runs = [
        r
        for r in instance.get_run_records(dg.RunsFilter(job_name=job_name))
        if r.create_timestamp.timestamp() > moment
    ]
    return max((r.end_time for r in runs), default=None) if runs and all(r.end_time for r in runs) else None


def main() -> int:
    parser = script_parser("/tmp/rp_latency/home", 3399)
    parser.add_argument("--rows", type=int, default=1_067_371)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    env, paths, staging = fresh_home(home := Path(args.home))

    import dagster as dg

    from retail_platform.bench.incremental import split_held_out_days
    from retail_platform.sample_data import write_sample
    from retail_platform.sample_data.calibration import DEFAULT_DAYS

    # a year ending yesterday: the shop's orders of today then follow the history, as in a live shop
    start = (datetime.date.today() - datetime.timedelta(days=DEFAULT_DAYS)).isoformat()
    write_sample(staging / "year.csv", args.rows, seed=12, start=start)
    history, days = split_held_out_days(staging / "year.csv", staging, args.days)
    log(f"generated {args.rows:,} lines: a history and {len(days)} held-out days")

    ui, url = start_ui(home, args.port, env, paths)
    started = time.time()
    history.rename(paths.landing / history.name)
    with dg.DagsterInstance.get() as instance:
        wait_for(
            "the history's load", lambda: finished_run_after(instance, "load_file_job", started), 1800, 1
        )
        wait_for("the history's refresh", lambda: refreshed_after(instance, started), 1800, 1)
        log(
            f"history: {scalar(url, 'SELECT count(*) FROM raw.transactions'):,} lines, refreshed in {time.time() - started:.0f} s"
        )

        drops = []
        for day in days:
            time.sleep(20)  # a quiet moment between the measurements
            dropped = time.time()
            day.rename(paths.landing / day.name)
            load_end = wait_for(
                f"{day.name}'s load",
                partial(finished_run_after, instance, "load_file_job", dropped),
                600,
                0.5,
            )
            marts = wait_for(f"{day.name}'s refresh", partial(refreshed_after, instance, load_end), 600, 0.5)
            drops.append((load_end - dropped, marts - dropped))
            log(
                f"{day.name}: loaded {load_end - dropped:.1f} s after the drop, marts {marts - dropped:.1f} s"
            )

        orders = []
        for _ in days:
            time.sleep(20)
            written = time.time()
            simulate_shop(home, env, url, 1)
            extracted = wait_for(
                "the extract", partial(finished_run_after, instance, "shop_extract_job", written), 600, 0.5
            )
            marts = wait_for(
                "the refresh after the extract", partial(refreshed_after, instance, extracted), 600, 0.5
            )
            orders.append((extracted - written, marts - written))
            log(
                f"order: extracted {extracted - written:.1f} s after the write, marts {marts - written:.1f} s"
            )
    ui.stop()
    from retail_platform.warehouse.embedded import stop_embedded

    stop_embedded(paths.pgdata)
    median = lambda pairs, i: statistics.median(p[i] for p in pairs)  # noqa: E731
    log(
        f"RESULT one day's file (median of {len(drops)}): loaded {median(drops, 0):.1f} s, marts {median(drops, 1):.1f} s after the drop"
    )
    log(
        f"RESULT one shop order (median of {len(orders)}): extracted {median(orders, 0):.1f} s, marts {median(orders, 1):.1f} s after the write"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
