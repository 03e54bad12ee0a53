"""``retail-platform bench --scenario day``: one day's file dropped into a warehouse of ``rows`` lines (issue 12).

The generated lines are split into the history (every day but the last ``repeat`` days) and one file per held
-out day. The history is loaded and fully refreshed once (not timed); then, for each held-out day in date order
(after an untimed VACUUM, the steady state autovacuum reaches long before the next day: see ``settle``): the day's
load, the months the refresh sensor would rebuild (``ingestion.changes.refresh_months``), and
``refresh_marts_job`` in process for those months (the monthly assets for those months; the unpartitioned
marts, predictions, charts and checks whole), with the time of each step; and once, at the end, the same job
over every month (the full refresh of the downstream graph) and ``predictions_job`` (the models' daily refit,
not part of the refresh after a drop) for comparison. Printed, never asserted.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import text


def split_held_out_days(source: Path, folder: Path, held_out: int) -> tuple[Path, list[Path]]:
    """The history file and one file per held-out last day, streamed in two passes (memory stays bounded
    at 10,673,710 lines): the first finds the days, the second writes each line to its file."""
    with source.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        next(reader)
        last = sorted({row[4][:10] for row in reader})[-held_out:]
    paths = {"": folder / "history.csv", **{day: folder / f"day_{day}.csv" for day in last}}
    with ExitStack() as files, source.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        writers = {}
        for key, path in paths.items():
            writers[key] = csv.writer(files.enter_context(path.open("w", newline="", encoding="utf-8")))
            writers[key].writerow(header)
        for row in reader:
            writers.get(row[4][:10], writers[""]).writerow(row)
    return paths[""], [paths[day] for day in last]


def load_history(engine, url: str, history: Path, home: Path):
    """Load the history file and refresh every month from it (untimed set-up); the refresh's ``JobTiming``."""
    from retail_platform.bench.measure import run_job_timed
    from retail_platform.defs.partitions import every_month_tags
    from retail_platform.ingestion.loader import load_file

    load_file(engine, history, progress=lambda _m: None)
    return run_job_timed("refresh_marts_job", url, home, every_month_tags())


def run_day_scenario(
    server_url: str, source: Path, workdir: Path, repeat: int, progress: Callable[[str], None]
) -> dict:
    """The measurements (see the module docstring), as a dict for the report."""
    from retail_platform.bench.measure import migrated_scratch_database, run_job_timed, settle
    from retail_platform.defs.partitions import every_month_tags, month_range_tags
    from retail_platform.ingestion.changes import refresh_months
    from retail_platform.ingestion.loader import load_file
    from retail_platform.warehouse.connection import engine_for

    history, days = split_held_out_days(source, workdir, repeat)
    with migrated_scratch_database(server_url, "day") as url:
        engine = engine_for(url)
        progress(f"Loading the history ({history.stat().st_size:,} bytes) and refreshing everything ...")
        ok = load_history(engine, url, history, workdir / "home").ok
        runs = []
        for day in days:
            settle(url, vacuum=True)
            started = time.perf_counter()
            result = load_file(engine, day, progress=lambda _m: None)
            load_s = time.perf_counter() - started
            months = refresh_months(engine, [result.load_id])
            tags = month_range_tags(*months)
            seconds, steps, ok_day, _ = run_job_timed("refresh_marts_job", url, workdir / "home", tags)
            progress(
                f"{day.name}: {result.lines_loaded:,} lines loaded in {load_s:.2f} s; refresh of "
                f"{tags['dagster/asset_partition_range_start']}..{tags['dagster/asset_partition_range_end']} "
                f"{seconds:.1f} s ({'ok' if ok_day else 'FAILED'}); slowest steps: {_slowest(steps)}"
            )
            runs.append({"load_s": load_s, "refresh_s": seconds, "steps": steps, "ok": ok_day})
        settle(url)
        full = run_job_timed("refresh_marts_job", url, workdir / "home", every_month_tags())
        # the models are not in the refresh after a drop (daily schedule): their refit, once, for comparison
        refit = run_job_timed("predictions_job", url, workdir / "home", {})
        with engine.connect() as conn:
            warehouse_lines = conn.execute(text("SELECT count(*) FROM raw.transactions")).scalar_one()
        engine.dispose()
    step_names = sorted({name for run in runs for name in run["steps"]})
    return {
        "warehouse_lines": warehouse_lines,
        "day_lines": [sum(1 for _ in day.open()) - 1 for day in days],
        "load_s_median": statistics.median(run["load_s"] for run in runs),
        "refresh_s_median": statistics.median(run["refresh_s"] for run in runs),
        "refresh_steps_median": {
            name: statistics.median(run["steps"].get(name, 0.0) for run in runs) for name in step_names
        },
        "full_downstream_s": full.seconds,
        "full_downstream_steps": full.steps,
        "predictions_refit_s": refit.seconds,
        "predictions_refit_peak_mb": refit.step_peak_mb,
        "all_ok": ok and full.ok and refit.ok and all(run["ok"] for run in runs),
    }


def _slowest(steps: dict[str, float], count: int = 4) -> str:
    top = sorted(steps.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in top)


def format_day(summary: dict) -> str:
    """The scenario's figures as text, the slowest steps of the incremental refresh first."""
    lines = [
        f"Warehouse of {summary['warehouse_lines']:,} lines; days of {summary['day_lines']} lines",
        f"  day's load (median):                      {summary['load_s_median']:.2f} s",
        f"  refresh of the touched months (median):   {summary['refresh_s_median']:.1f} s",
        f"  refresh of every month (once):            {summary['full_downstream_s']:.1f} s",
    ]
    if summary.get("predictions_refit_s") is not None:
        lines.append(f"  predictions_job, the daily refit (once):  {summary['predictions_refit_s']:.1f} s")
        peaks = summary.get("predictions_refit_peak_mb") or {}
        if peaks:
            step, peak = max(peaks.items(), key=lambda item: item[1])
            lines.append(f"    its largest peak resident memory:       {peak:,.0f} MiB ({step})")
    lines += [
        "  slowest steps of the incremental refresh (median s):",
    ]
    steps = sorted(summary["refresh_steps_median"].items(), key=lambda item: -item[1])[:12]
    lines += [f"    {name:60s} {seconds:6.2f}" for name, seconds in steps]
    lines.append(f"  all runs succeeded: {summary['all_ok']}")
    return "\n".join(lines)
