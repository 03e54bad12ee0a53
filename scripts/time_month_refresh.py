"""The refresh of one month on a warehouse that already exists: ``refresh_marts_job`` for the latest month
that holds lines, run ``--repeat`` times in process (each after an untimed VACUUM and CHECKPOINT, as
``retail-platform bench --scenario day`` does), with the median time of each step.

It is the timed part of the day scenario without building the history again (minutes at 10,673,710 lines),
so two versions of the code can be compared back to back on the same warehouse: run it from each checkout
(``PYTHONPATH=<checkout>``) against the same ``--url``. ``--build ROWS`` first fills the (empty, migrated on
first use) database as the day scenario does: ROWS generated lines over ``--days`` days, every day but the
last three loaded and fully refreshed, then the first held-out day loaded. Printed, never asserted.

    .venv/bin/python scripts/time_month_refresh.py --url postgresql://postgres@127.0.0.1:5432/day10m \
        --build 10673710 --days 3650 --repeat 0
    .venv/bin/python scripts/time_month_refresh.py --url postgresql://postgres@127.0.0.1:5432/day10m --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import text

from retail_platform.bench.measure import run_job_timed, settle
from retail_platform.defs.partitions import month_range_tags
from retail_platform.warehouse.connection import engine_for


def build(url: str, rows: int, days: int, folder: Path) -> None:
    """The day scenario's warehouse (``bench.incremental``), kept: the history loaded and refreshed, one day
    on top of it."""
    from retail_platform.bench.incremental import load_history, split_held_out_days
    from retail_platform.ingestion.loader import load_file
    from retail_platform.sample_data import write_sample
    from retail_platform.warehouse.migrations import migrate

    source = folder / "source.csv"
    write_sample(source, rows, 7, days=days)
    history, held_out = split_held_out_days(source, folder, 3)
    engine = engine_for(url)
    migrate(engine)
    full = load_history(engine, url, history, folder / "home")
    print(f"history of {rows:,} lines loaded and refreshed ({full.seconds:.1f} s, ok={full.ok})", flush=True)
    load_file(engine, held_out[0], progress=lambda _message: None)
    settle(url, vacuum=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the warehouse (a database the benchmark built)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", type=int, metavar="ROWS", help="first fill the empty database")
    parser.add_argument("--days", type=int, default=3650, help="days of history of --build")
    args = parser.parse_args()
    if args.build:
        with tempfile.TemporaryDirectory(prefix="rp_month_build_") as folder:
            build(args.url, args.build, args.days, Path(folder))
    if args.repeat < 1:
        return
    with engine_for(args.url).connect() as conn:
        month = conn.execute(text("SELECT max(invoice_month) FROM clean.order_lines")).scalar_one()
    if month is None:
        raise SystemExit("the warehouse holds no clean lines: build it first (retail-platform run)")
    tags = month_range_tags(month, month)
    runs = []
    with tempfile.TemporaryDirectory(prefix="rp_month_refresh_") as home:
        for number in range(args.repeat):
            settle(args.url, vacuum=True)
            run = run_job_timed("refresh_marts_job", args.url, Path(home), tags)
            runs.append(run)
            print(f"run {number + 1}: {run.seconds:.2f} s ({'ok' if run.ok else 'FAILED'})", flush=True)
    steps = {name for run in runs for name in run.steps}
    medians = {name: statistics.median(run.steps.get(name, 0.0) for run in runs) for name in steps}
    print(
        f"refresh of {month:%Y-%m}: median {statistics.median(run.seconds for run in runs):.2f} s, "
        f"{len(steps)} steps"
    )
    for name, seconds in sorted(medians.items(), key=lambda item: -item[1]):
        print(f"  {name:60s} {seconds:6.2f}")


if __name__ == "__main__":
    main()
