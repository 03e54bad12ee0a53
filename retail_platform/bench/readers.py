"""Readers never block, never see half a table (issue 13, deliverable 3): concurrent read-only connections
querying the marts in a loop while the warehouse is refreshed.

``ReaderPool`` starts ``readers`` threads, each with its own connection as ``retail_reader`` (the role the
dashboard and the web application read through), a statement timeout, and a loop of dashboard-like reads in
one REPEATABLE READ snapshot. Each round also takes a fingerprint of every table it read (row count and a
sum), so a caller can check that each table a reader saw was one whole version of it, never half a table.

``python -m retail_platform.bench.readers`` builds a warehouse from a generated drop (embedded PostgreSQL in a
scratch folder, or ``--url``), then times ``refresh_marts_job`` (clean layer, marts, predictions, charts)
over every month: on an idle warehouse, then with the readers running; it prints the readers' errors and the
time ratio (target: zero errors, within 2x idle). Figures, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from retail_platform.warehouse.connection import libpq_url
from retail_platform.warehouse.roles import READER_ROLE

# What the dashboard reads, and, per table, the fingerprint of one whole version of it (count, a sum).
READS = (
    "SELECT * FROM marts.monthly_kpis ORDER BY month",
    "SELECT * FROM marts.daily_sales ORDER BY day DESC LIMIT 90",
    "SELECT * FROM marts.sales_by_country ORDER BY net_sales DESC",
    "SELECT * FROM marts.top_products ORDER BY rank",
    "SELECT * FROM marts.rfm_segments ORDER BY customers DESC",
    "SELECT * FROM marts.invoice_amount_stats",
    "SELECT action, count(*) FROM marts.customer_actions GROUP BY action",
)
FINGERPRINTS = {
    "clean.order_lines": "SELECT count(*), coalesce(sum(amount), 0) FROM clean.order_lines",
    "marts.monthly_kpis": "SELECT count(*), coalesce(sum(net_sales), 0) FROM marts.monthly_kpis",
    "marts.daily_sales": "SELECT count(*), coalesce(sum(net_sales), 0) FROM marts.daily_sales",
    "marts.sales_by_country": "SELECT count(*), coalesce(sum(net_sales), 0) FROM marts.sales_by_country",
    "marts.rfm_scores": "SELECT count(*), coalesce(sum(monetary), 0) FROM marts.rfm_scores",
    "marts.rfm_segments": "SELECT count(*), coalesce(sum(customers), 0) FROM marts.rfm_segments",
    "marts.top_products": "SELECT count(*), coalesce(sum(net_sales), 0) FROM marts.top_products",
}
Fingerprint = dict[str, tuple]


def reader_connection(url: str, statement_timeout_ms: int = 10_000) -> psycopg.Connection:
    """A connection that reads as ``retail_reader`` (the login may be the owner: it takes the role), with a
    statement timeout, as the dashboard's connections have: a blocked read fails instead of hanging."""
    conn = psycopg.connect(libpq_url(url), autocommit=False)
    conn.execute(f"SET ROLE {READER_ROLE}")
    conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
    conn.commit()
    return conn


def fingerprint(conn: psycopg.Connection, with_lines: bool = True) -> Fingerprint:
    """Every table's (count, sum) on the connection's current snapshot (``with_lines``: also
    clean.order_lines, whose sum reads every line)."""
    return {
        table: tuple(conn.execute(query).fetchone())
        for table, query in FINGERPRINTS.items()
        if with_lines or table != "clean.order_lines"
    }


@dataclass
class ReaderPool:
    """``readers`` threads reading in a loop until ``stop()``: their rounds, errors and fingerprints."""

    url: str
    readers: int = 20
    pause_s: float = 0.05  # think time between rounds, as a dashboard user's
    lines_every: int = 1  # the clean.order_lines fingerprint (a scan of every line) in one round of this many
    statement_timeout_ms: int = 10_000
    rounds: int = 0
    errors: Counter = field(default_factory=Counter)
    seen: list[Fingerprint] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> ReaderPool:
        ready = threading.Barrier(self.readers + 1)
        for number in range(self.readers):
            thread = threading.Thread(target=self._loop, args=(ready,), name=f"reader-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        ready.wait()  # every reader connected before the caller starts refreshing
        return self

    def stop(self) -> ReaderPool:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self

    def _loop(self, ready: threading.Barrier) -> None:
        try:
            conn = reader_connection(self.url, self.statement_timeout_ms)
        except psycopg.Error as error:
            self._failed(error)
            ready.wait()
            return
        ready.wait()
        with conn:
            while not self._stop.is_set():
                try:
                    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    for query in READS:
                        conn.execute(query).fetchall()
                    seen = fingerprint(conn, with_lines=self.rounds % self.lines_every == 0)
                    conn.commit()
                except psycopg.Error as error:
                    self._failed(error)
                    conn.rollback()
                    continue
                with self._lock:
                    self.rounds += 1
                    self.seen.append(seen)
                self._stop.wait(self.pause_s)

    def _failed(self, error: psycopg.Error) -> None:
        with self._lock:
            self.errors[f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def torn_tables(seen: list[Fingerprint], versions: list[Fingerprint]) -> Counter:
    """Per table, how many reads saw a state that is none of the whole ``versions`` of it (half a table)."""
    torn: Counter = Counter()
    for observed in seen:
        for table, state in observed.items():
            if all(version[table] != state for version in versions):
                torn[table] += 1
    return torn


def time_refresh(refresh: Callable[[], None], repeats: int) -> list[float]:
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        refresh()
        durations.append(time.perf_counter() - started)
    return durations


def refresher(url: str, home: Path, job_name: str = "refresh_marts_job") -> Callable[[], None]:
    """A full refresh (every month) by ``job_name``, in process: by default everything downstream of raw;
    ``full_refresh_job`` also loads what waits in the landing folder. Raises when the run fails."""
    import dagster as dg

    from retail_platform.definitions import defs
    from retail_platform.defs.partitions import every_month_tags
    from retail_platform.defs.resources import RetailPathsResource, WarehouseResource

    job = defs.resolve_job_def(job_name)

    def refresh() -> None:
        with dg.DagsterInstance.ephemeral() as instance:  # disposed here, not by the GC in a reader thread
            result = job.execute_in_process(
                instance=instance,
                resources={
                    "warehouse": WarehouseResource(url=url),
                    "retail_paths": RetailPathsResource(home=str(home)),
                },
                tags=every_month_tags(),
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},  # figures only
            )
        if not result.success:
            raise RuntimeError(f"{job_name} failed")

    return refresh


def _prepare(url: str, workdir: Path, rows: int) -> None:
    """A warehouse with ``rows`` generated lines loaded and every table built once."""
    from retail_platform.ingestion.loader import load_file
    from retail_platform.sample_data import write_sample
    from retail_platform.warehouse.connection import engine_for
    from retail_platform.warehouse.migrations import migrate

    engine = engine_for(url)
    migrate(engine)
    drop = workdir / "drop.csv"
    write_sample(drop, rows, seed=13)
    load_file(engine, drop)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retail_platform.bench.readers", description=__doc__)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000, help="generated lines in the warehouse")
    parser.add_argument("--repeats", type=int, default=3, help="refreshes per phase (medians)")
    parser.add_argument(
        "--pause", type=float, default=0.05, help="each reader's think time between rounds (s)"
    )
    parser.add_argument(
        "--lines-every", type=int, default=1, help="sum all of clean.order_lines in one reader round of N"
    )
    parser.add_argument("--url", help="a PostgreSQL database to use (default: embedded, in a scratch folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_readers_") as scratch:
        workdir = Path(scratch)
        url, stop_server = _warehouse(args.url, workdir)
        try:
            return _bench(url, workdir, args)
        finally:
            stop_server()


def _warehouse(url: str | None, workdir: Path) -> tuple[str, Callable[[], None]]:
    if url:
        return url, lambda: None
    from retail_platform.warehouse.embedded import start_embedded, stop_embedded

    pgdata = workdir / "pgdata"
    return start_embedded(pgdata), lambda: stop_embedded(pgdata)


def _bench(url: str, workdir: Path, args: argparse.Namespace) -> int:
    print(f"Preparing a warehouse of {args.rows:,} generated lines ...", flush=True)
    _prepare(url, workdir, args.rows)
    refresh = refresher(url, workdir / "home")
    refresh()  # every table built once (and code paths warm) before timing
    with reader_connection(url) as conn:
        version = fingerprint(conn)
    idle = time_refresh(refresh, args.repeats)
    pool = ReaderPool(url, args.readers, pause_s=args.pause, lines_every=args.lines_every).start()
    try:
        busy = time_refresh(refresh, args.repeats)
    finally:
        pool.stop()
    torn = torn_tables(pool.seen, [version])
    with_lines = [seen for seen in pool.seen if "clean.order_lines" in seen]
    consistent = sum(
        1 for seen in with_lines if seen["marts.monthly_kpis"][1] == seen["clean.order_lines"][1]
    )
    ratio = statistics.median(busy) / statistics.median(idle)
    print(f"refresh_marts_job over every month, {args.rows:,} lines, medians of {args.repeats}:")
    print(
        f"  idle warehouse:        {statistics.median(idle):7.2f} s  ({', '.join(f'{d:.2f}' for d in idle)})"
    )
    print(
        f"  with {args.readers} readers:       {statistics.median(busy):7.2f} s  ({', '.join(f'{d:.2f}' for d in busy)})"
    )
    print(f"  ratio:                 {ratio:7.2f} x   (target <= 2x)")
    print(
        f"  reader rounds:         {pool.rounds:,} ({len(READS)} reads and {len(FINGERPRINTS)} fingerprints each)"
    )
    print(f"  reader errors:         {pool.error_count}  {dict(pool.errors) if pool.errors else ''}")
    print(f"  torn tables seen:      {sum(torn.values())}  {dict(torn) if torn else ''}")
    print(f"  kpis = order_lines:    {consistent:,} of {len(with_lines):,} snapshots that summed the lines")
    return 0 if pool.error_count == 0 and not torn else 1


if __name__ == "__main__":
    raise SystemExit(main())
