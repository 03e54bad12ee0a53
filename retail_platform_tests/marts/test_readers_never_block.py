"""Readers never block, never see half a table (issue 13, defect 4 and deliverable 3).

A ``retail_reader`` connection that has read every clean and mart table and keeps its transaction open must
not stall a refresh (a TRUNCATE waits for it on ``Lock:relation``): the refresh completes, the open reader
still sees the old rows, a new reader sees the new ones. A watchdog ends the test as soon as a refresh backend
waits for the reader (no timing). Then a short load test: readers query the marts in a loop during a
refresh of changed data; no reader fails, and every table each reader saw was one whole version of it.
"""

from __future__ import annotations

import threading

import psycopg
import pytest

from retail_platform.bench.readers import ReaderPool, fingerprint, reader_connection, refresher, torn_tables
from retail_platform.sample_data import write_sample
from retail_platform.warehouse.connection import libpq_url

SAFETY_S = 900  # only so that a broken build cannot hang the suite; never reached when the refresh works


def _capture(work, failures: list[BaseException]):
    def run() -> None:
        try:
            work()
        except BaseException as error:
            failures.append(error)

    return run


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        " WHERE table_schema IN ('clean', 'marts') AND table_type = 'BASE TABLE' ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def _contents(conn: psycopg.Connection, tables: list[str]) -> dict[str, list[tuple]]:
    """Every row of every table, as the connection's snapshot shows them (the tables are small here)."""
    return {table: sorted(map(repr, conn.execute(f"SELECT * FROM {table}").fetchall())) for table in tables}


def _blocked_by(monitor: psycopg.Connection, reader_pid: int) -> list[str]:
    rows = monitor.execute(
        "SELECT wait_event_type || ':' || wait_event || ' ' || left(query, 80) FROM pg_stat_activity"
        " WHERE %s = ANY(pg_blocking_pids(pid))",
        (reader_pid,),
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def built(database_url: str, paths) -> str:
    """A warehouse built by a full refresh from a first drop, and a second drop waiting in the landing folder
    (different lines: the next refresh changes every table)."""
    write_sample(paths.landing / "first.csv", 3_000, seed=11)
    refresher(database_url, paths.home, "full_refresh_job")()
    write_sample(paths.landing / "second.csv", 2_000, seed=12)
    return database_url


def test_an_open_reader_does_not_stall_the_refresh_and_keeps_its_snapshot(built: str, paths) -> None:
    url = built
    reader = reader_connection(url)
    reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    tables = _tables(reader)
    assert {"clean.order_lines", "marts.monthly_kpis", "marts.rfm_scores", "marts.customer_actions"} <= set(
        tables
    )
    before = _contents(reader, tables)  # the reader has read every table and holds its transaction open
    reader_pid = reader.info.backend_pid

    failures: list[BaseException] = []
    refresh = threading.Thread(target=_capture(refresher(url, paths.home, "full_refresh_job"), failures))
    refresh.start()
    blocked: list[str] = []
    with psycopg.connect(libpq_url(url), autocommit=True) as monitor:
        while refresh.is_alive() and not blocked:
            blocked = _blocked_by(monitor, reader_pid)
            refresh.join(0.2)
        if blocked:  # release the refresh, then fail
            monitor.execute("SELECT pg_terminate_backend(%s)", (reader_pid,))
    refresh.join(SAFETY_S)
    assert not blocked, f"the refresh waited for the reader's open transaction: {blocked}"
    assert not failures, failures

    assert _contents(reader, tables) == before, "an open reader must keep seeing the rows it started with"
    reader.rollback()
    after = _contents(reader, tables)  # a new transaction: the refreshed rows
    reader.close()
    changed = {table for table in tables if after[table] != before[table]}
    assert {"clean.order_lines", "marts.monthly_kpis", "marts.daily_sales", "marts.rfm_scores"} <= changed


def test_readers_in_a_loop_see_whole_tables_and_no_errors(built: str, paths) -> None:
    url = built
    with reader_connection(url) as conn:
        old = fingerprint(conn)
    pool = ReaderPool(url, readers=4, pause_s=0.0).start()
    try:
        refresher(url, paths.home, "full_refresh_job")()
    finally:
        pool.stop()
    with reader_connection(url) as conn:
        new = fingerprint(conn)
    assert new["clean.order_lines"] != old["clean.order_lines"]  # the refresh changed the data
    assert pool.rounds > 0
    assert pool.error_count == 0, dict(pool.errors)
    assert not torn_tables(pool.seen, [old, new]), "a reader saw a table that was neither version"
    for seen in pool.seen:  # within one snapshot, the month KPIs add up to their lines (or their old lines)
        assert (seen["marts.monthly_kpis"][1], seen["clean.order_lines"][1]) in {
            (old["marts.monthly_kpis"][1], old["clean.order_lines"][1]),
            (new["marts.monthly_kpis"][1], new["clean.order_lines"][1]),
            (old["marts.monthly_kpis"][1], new["clean.order_lines"][1]),  # lines committed, KPIs not yet
        }
