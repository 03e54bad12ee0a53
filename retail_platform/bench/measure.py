"""One repeat of the benchmark: (a) bare COPY, (b) load, (c) re-drop, (d) whole graph, (e) memory, each in
fresh scratch databases on the warehouse's server."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import psycopg

from retail_platform.bench.memory import RssTimeline, ServerMemory, peak_rss_mb

# The columns of the CSV the generator writes, with the warehouse's types: the reference COPY's table.
_REFERENCE_TABLE = (
    "CREATE UNLOGGED TABLE bench_copy (invoice_no text, stock_code text, description text, quantity integer, "
    "invoice_date timestamp, unit_price numeric, customer_id integer, country text)"
)
_COPY_BLOCK = 1 << 20


@dataclass
class Repeat:
    """The measurements of one repeat."""

    copy_s: float = 0.0
    load_s: float = 0.0
    redrop_s: float = 0.0
    graph_s: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    step_peak_mb: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    server_peak_rss_mb: float | None = None
    load_status: str = ""
    redrop_status: str = ""
    graph_ok: bool = False


@contextlib.contextmanager
def migrated_scratch_database(server_url: str, label: str) -> Iterator[str]:
    """A new, migrated database on the warehouse's server, dropped afterwards."""
    from retail_platform.warehouse.connection import engine_for, scratch_database
    from retail_platform.warehouse.migrations import migrate

    with scratch_database(server_url, f"retail_bench_{label}") as url:
        migrate(engine_for(url))
        yield url


def settle(url: str, vacuum: bool = False) -> None:
    """Write out what earlier steps left in shared buffers before a timed step, so that the server's
    checkpoint of one measurement's data does not slow the next one down (needs the right to CHECKPOINT,
    which the embedded server's user has; elsewhere measurements may carry that noise). ``vacuum``: first
    VACUUM the database, as autovacuum would have long before the next day's refresh: right after a full
    refresh of 10,673,710 lines, autovacuum's worker otherwise spends minutes on the dead rows of every table,
    on one of the two cores, while the timed refreshes run."""
    with contextlib.suppress(psycopg.Error), psycopg.connect(url, autocommit=True) as conn:
        if vacuum:
            conn.execute("VACUUM")
        conn.execute("CHECKPOINT")


def time_reference_copy(url: str, path: Path) -> float:
    """(a): bare COPY of the CSV bytes, header included, into a fresh unlogged table of matching columns."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(_REFERENCE_TABLE)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            open(path, "rb") as stream,
            cursor.copy("COPY bench_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while block := stream.read(_COPY_BLOCK):
                copy.write(block)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
    return seconds


def time_load(url: str, path: Path) -> tuple[float, str]:
    from retail_platform.ingestion.loader import load_file
    from retail_platform.warehouse.connection import engine_for

    started = time.perf_counter()
    result = load_file(engine_for(url), path, progress=lambda _message: None)
    return time.perf_counter() - started, result.status


class JobTiming(NamedTuple):
    """A job run in process: its seconds, each step's seconds and peak resident MiB, and whether it succeeded."""

    seconds: float
    steps: dict[str, float]
    ok: bool
    step_peak_mb: dict[str, float]


def run_job_timed(job_name: str, url: str, home: Path, tags: dict[str, str]) -> JobTiming:
    """Run ``job_name`` in process on a temporary Dagster instance in ``home/dagster`` (telemetry off) against the
    warehouse at ``url``, sampling this process's memory so that each step's peak is known."""
    import dagster as dg

    from retail_platform.definitions import defs
    from retail_platform.defs.resources import default_resources
    from retail_platform.settings import Settings, retail_paths

    (home / "dagster").mkdir(parents=True, exist_ok=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    with dg.DagsterInstance.local_temp(tempdir=str(home / "dagster")) as instance, RssTimeline() as memory:
        started = time.perf_counter()
        result = defs.resolve_job_def(job_name).execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags=tags,
            instance=instance,
            resources=default_resources(Settings(paths=retail_paths(home), warehouse_url=url)),
            raise_on_error=False,
        )
        seconds = time.perf_counter() - started
        stats = instance.get_run_step_stats(result.run_id)
    steps = {stat.step_key: (stat.end_time or 0) - (stat.start_time or 0) for stat in stats}
    peaks = {stat.step_key: memory.peak_mb(stat.start_time or 0, stat.end_time or 0) for stat in stats}
    return JobTiming(seconds, steps, result.success, {k: v for k, v in peaks.items() if v is not None})


def time_graph(url: str, path: Path, workdir: Path) -> JobTiming:
    """(d): full_refresh_job in process, on a temporary Dagster instance, with ``path`` in the landing folder."""
    home = workdir / f"home_{uuid.uuid4().hex[:8]}"
    (home / "landing").mkdir(parents=True)
    _link_or_copy(path, home / "landing" / path.name)
    try:
        from retail_platform.defs.partitions import every_month_tags

        return run_job_timed("full_refresh_job", url, home, every_month_tags())
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    """The same bytes under another name: a hard link where possible (no copy of a gigabyte file)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy(source, target)


def run_repeat(server_url: str, path: Path, workdir: Path, progress, graph: bool = True) -> Repeat:
    """(a) to (c), then (d) unless ``graph`` is false (the ``load`` scenario: many repeats of the load alone)."""
    from retail_platform.warehouse.connection import engine_for

    repeat = Repeat()
    with ServerMemory(server_url) as server:
        with migrated_scratch_database(server_url, "load") as url:
            settle(url)
            repeat.copy_s = time_reference_copy(url, path)
            progress(f"  (a) bare COPY        {repeat.copy_s:8.2f} s")
            settle(url)
            repeat.load_s, repeat.load_status = time_load(url, path)
            progress(f"  (b) platform load    {repeat.load_s:8.2f} s  ({repeat.load_status})")
            again = workdir / f"again_{path.name}"
            _link_or_copy(path, again)
            settle(url)
            try:
                repeat.redrop_s, repeat.redrop_status = time_load(url, again)
            finally:
                again.unlink(missing_ok=True)
            progress(f"  (c) re-drop          {repeat.redrop_s:8.2f} s  ({repeat.redrop_status})")
            engine_for(url).dispose()
        if graph:
            _time_graph_repeat(server_url, path, workdir, progress, repeat)
        else:
            repeat.graph_ok = True  # not asked for: nothing failed
    repeat.peak_rss_mb = peak_rss_mb()
    repeat.server_peak_rss_mb = server.peak_mb
    return repeat


def _time_graph_repeat(server_url: str, path: Path, workdir: Path, progress, repeat: Repeat) -> None:
    """(d) on a second fresh database, into ``repeat``."""
    from retail_platform.warehouse.connection import engine_for

    with migrated_scratch_database(server_url, "graph") as url:
        settle(url)
        timing = time_graph(url, path, workdir)
        repeat.graph_s, repeat.steps, repeat.graph_ok = timing.seconds, timing.steps, timing.ok
        repeat.step_peak_mb = timing.step_peak_mb
        progress(f"  (d) whole graph      {repeat.graph_s:8.2f} s  ({'ok' if repeat.graph_ok else 'FAILED'})")
        engine_for(url).dispose()
