"""``retail-platform bench``: how fast the platform ingests and builds, against what PostgreSQL itself can take.

A benchmark, not a test: it prints measurements and asserts nothing. One run generates ``rows`` invoice lines
(``sample_data.write_sample``, CSV) and then, ``repeat`` times, each time in fresh scratch databases on the
configured warehouse server (never in the warehouse database itself):

(a) ``copy``: a bare ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same CSV bytes into a fresh unlogged
    table of the eight columns with the warehouse's types: the physical reference on this machine;
(b) ``load``: the platform's load of that file (``load_file``: digest, reading, typing, line identity,
    exactly-once insert, ledger), into an empty warehouse;
(c) ``redrop``: the same file dropped again under another name (nothing new to load);
(d) ``graph``: the whole asset graph (``full_refresh_job``: load, clean layer, every mart, charts, checks), in
    process, on a second fresh database, with the time of every step;
(e) the peak resident memory of the process doing the work (each repeat runs in a fresh process, as each
    ``retail-platform run`` does, which loads and runs the job in process) and of the database server's
    processes, when the server runs on this machine.

Times are medians over the repeats; memory is the maximum. Ratios are to (a), and each repeat's own ratio of
(b) to (a) is printed too: on a shared two-core machine one repeat's ratio moves by half a unit. The ``load``
scenario runs (a) to (c) only, a few seconds a repeat, so that ``--repeat 9`` shows that spread cheaply.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import psycopg

from retail_platform.bench.measure import Repeat, migrated_scratch_database, run_repeat, settle
from retail_platform.bench.memory import ServerMemory, peak_rss_mb, reset_peak_rss
from retail_platform.bench.report import format_table, summarize

__all__ = [
    "ServerMemory",
    "format_table",
    "main",
    "migrated_scratch_database",
    "peak_rss_mb",
    "reset_peak_rss",
    "run_bench",
    "settle",
    "summarize",
]

DEFAULT_ROWS = 1_067_371  # the full UCI Online Retail II data set, both sheets
DEFAULT_REPEAT = 3
DEFAULT_SEED = 20091201


def _child(server_url: str, path: str, workdir: str, to_stderr: bool, graph: bool, results) -> None:
    progress = _progress(to_stderr)
    try:
        results.send(("ok", asdict(run_repeat(server_url, Path(path), Path(workdir), progress, graph))))
    except BaseException as error:
        results.send(("error", f"{type(error).__name__}: {error}"))
        raise


def _run_repeat_in_child(
    server_url: str, path: Path, workdir: Path, to_stderr: bool, graph: bool = True
) -> Repeat:
    """One repeat in a fresh process, as each ``retail-platform run`` is: its memory is its own."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(server_url, str(path), str(workdir), to_stderr, graph, send))
    child.start()
    send.close()
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", f"the benchmark process died (exit code {child.exitcode})"
    child.join()
    if status != "ok":
        raise RuntimeError(f"benchmark repeat failed: {payload}")
    return Repeat(**payload)


def _progress(to_stderr: bool):
    if to_stderr:
        return lambda message: print(message, file=sys.stderr, flush=True)
    return lambda message: print(message, flush=True)


@contextmanager
def _sample(
    rows: int, seed: int, workdir: Path | None, progress, days: int | None = None
) -> Iterator[tuple[Path, Path, float]]:
    """The generated sample file in ``workdir`` (a temporary folder, removed afterwards, when None), with the
    seconds its generation took; ``days`` of history (default: the generator's year, as the UCI export)."""
    from retail_platform.sample_data import write_sample
    from retail_platform.sample_data.calibration import DEFAULT_DAYS

    own = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="retail_bench_")) if own else workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        path = workdir / f"bench_{rows}.csv"
        progress(f"Generating {rows:,} lines over {days or DEFAULT_DAYS:,} days into {path} ...")
        started = time.perf_counter()
        write_sample(path, rows, seed, days=days or DEFAULT_DAYS)
        yield path, workdir, time.perf_counter() - started
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def run_bench(
    server_url: str,
    rows: int,
    repeat: int,
    seed: int,
    workdir: Path | None,
    to_stderr: bool = False,
    graph: bool = True,
) -> dict:
    """(a) to (e), ``repeat`` times; without ``graph`` (the ``load`` scenario) (a) to (c) only, which takes a
    few seconds a repeat: enough repeats to see the spread of the load's ratio on a noisy machine."""
    progress = _progress(to_stderr)
    with _sample(rows, seed, workdir, progress) as (path, workdir, generate_s):
        with psycopg.connect(server_url, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        repeats = []
        for number in range(1, repeat + 1):
            progress(f"Repeat {number} of {repeat}:")
            repeats.append(_run_repeat_in_child(server_url, path, workdir, to_stderr, graph))
        return summarize(rows, repeats, generate_s, f"PostgreSQL {version}", graph=graph)


def run_day(
    server_url: str,
    rows: int,
    repeat: int,
    seed: int,
    workdir: Path | None,
    to_stderr: bool,
    days: int | None = None,
) -> dict:
    """The ``day`` scenario (``bench/incremental.py``): one day's file into a warehouse of ``rows`` lines
    spread over ``days`` days (the issue's day of about 3,000 lines at 10,673,710 lines: ``days=3650``)."""
    from retail_platform.bench.incremental import run_day_scenario

    progress = _progress(to_stderr)
    with _sample(rows, seed, workdir, progress, days) as (path, workdir, _):
        return run_day_scenario(server_url, path, workdir, repeat, progress)


def main(
    server_url: str,
    rows: int,
    repeat: int,
    seed: int,
    as_json: bool,
    workdir: Path | None,
    scenario: str = "graph",
    days: int | None = None,
) -> int:
    if scenario == "day":
        from retail_platform.bench.incremental import format_day

        summary = run_day(server_url, rows, repeat, seed, workdir, to_stderr=as_json, days=days)
        print(json.dumps(summary, indent=2) if as_json else format_day(summary))
        return 0 if summary["all_ok"] else 1
    summary = run_bench(server_url, rows, repeat, seed, workdir, to_stderr=as_json, graph=scenario != "load")
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_table(summary))
    return 0 if summary["all_ok"] else 1
