"""The burst of issue 12: a year of daily exports (the project's generator, one file per day) dropped at once
into a running ``retail-platform ui`` (webserver, daemon, code server; embedded PostgreSQL; default sensor
intervals) on a fresh RETAIL_HOME. It reports the time from the drop until every file is in the ledger and
until the downstream refresh after the last load has finished, the number of load runs and their files, and
the refresh runs with their status.

    .venv/bin/python scripts/burst_daily_files.py [--home /tmp/rp_burst/home] [--rows 1067371]

Slow and heavy (a million lines, a full downstream refresh): run it alone, never in the test suite.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acceptance_event_driven import (  # the same home, start and stop of `ui`
    fresh_home,
    log,
    scalar,
    script_parser,
    start_ui,
    wait_for,
    write_csv,
)


def split_by_day(source: Path, folder: Path) -> list[Path]:
    """One file per invoice day, as a shop exporting daily would send them."""
    with source.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        days: dict[str, list[list[str]]] = {}
        for row in reader:
            days.setdefault(row[4][:10], []).append(row)
    return [write_csv(folder / f"orders_{day}.csv", header, rows) for day, rows in sorted(days.items())]


def main() -> int:
    parser = script_parser("/tmp/rp_burst/home", 3388)
    parser.add_argument("--rows", type=int, default=1_067_371)
    args = parser.parse_args()
    env, paths, staging = fresh_home(home := Path(args.home))

    import dagster as dg

    from retail_platform.sample_data import write_sample

    write_sample(staging / "year.csv", args.rows, seed=12)
    (staging / "days").mkdir()
    parts = split_by_day(staging / "year.csv", staging / "days")
    log(f"generated {args.rows:,} lines, split into {len(parts)} daily files")

    ui, url = start_ui(home, args.port, env, paths)
    dropped = time.time()
    for part in parts:
        part.rename(paths.landing / part.name)
    log(f"dropped {len(parts)} files")
    loaded = lambda: scalar(url, "SELECT count(*) FROM raw.file_loads WHERE status = 'loaded'")  # noqa: E731
    wait_for("every file", lambda: loaded() == len(parts), 3600, 1)
    all_loaded = time.time() - dropped
    log(f"all {len(parts)} files loaded {all_loaded:.0f} s after the drop")
    with dg.DagsterInstance.get() as instance:
        load_runs = list(instance.get_run_records(dg.RunsFilter(job_name="load_file_job")))
        last_load = max(r.end_time or time.time() for r in load_runs)

        def refreshed():
            runs = instance.get_run_records(dg.RunsFilter(tags={"retail/trigger": "downstream_refresh"}))
            done = [r for r in runs if r.start_time and r.start_time > last_load and r.end_time]
            busy = [r for r in runs if not r.end_time]
            return done and not busy and runs

        refreshes = wait_for("the refresh after the last load", refreshed, 1800, 1)
        settled = time.time() - dropped
        files_per_run = [r.dagster_run.tags.get("retail/landing_files") for r in load_runs]
    log(
        f"RESULT {len(parts)} daily files, {scalar(url, 'SELECT count(*) FROM raw.transactions'):,} lines loaded"
    )
    log(f"RESULT load runs: {len(load_runs)}, files per run {files_per_run}")
    log(f"RESULT downstream refreshes: {[r.dagster_run.status.value for r in refreshes]}")
    log(f"RESULT drop -> every file loaded {all_loaded:.0f} s; drop -> refresh finished {settled:.0f} s")
    ui.stop()
    from retail_platform.warehouse.embedded import stop_embedded

    stop_embedded(paths.pgdata)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
