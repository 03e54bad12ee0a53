"""``warehouse/empty_tables.py``: an empty table is taken (truncated, new files) only when its lock comes in
time, and a table that is not taken is left as it was, with no lock kept."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, text

from retail_platform.warehouse.empty_tables import drop_indexes, take_if_empty
from retail_platform_tests.helpers import index_definitions

TABLE = "public.sample"


@pytest.fixture
def sample(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE public.sample (id integer, month date)"))
        conn.execute(text("CREATE INDEX sample_month ON public.sample (month)"))
    return engine


def _file(conn) -> int:
    return conn.execute(
        text("SELECT relfilenode FROM pg_class WHERE oid = 'public.sample'::regclass")
    ).scalar()


def _exclusive_locks(conn) -> int:
    return conn.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'AccessExclusiveLock'"
            " AND relation = 'public.sample'::regclass"
        )
    ).scalar()


def _indexes(conn) -> list[str]:
    return index_definitions(conn, TABLE)


def test_an_empty_table_gets_new_files_and_its_indexes_can_be_built_again(sample: Engine) -> None:
    with sample.begin() as conn:
        before, indexes = _file(conn), _indexes(conn)
        dropped: list[str] = []
        pg = conn.connection.driver_connection
        assert take_if_empty(pg, TABLE, then=lambda: dropped.extend(drop_indexes(pg, TABLE)))
        assert _file(conn) != before and _exclusive_locks(conn) == 1  # truncated, held until the commit
        assert dropped == indexes and _indexes(conn) == []
        conn.execute(text("INSERT INTO public.sample VALUES (1, '2010-01-01')"))
        for definition in dropped:
            conn.exec_driver_sql(definition)
    with sample.connect() as conn:
        assert _indexes(conn) == indexes
        assert conn.execute(text("SELECT count(*) FROM public.sample")).scalar() == 1


def test_a_table_with_rows_is_left_as_it_is(sample: Engine) -> None:
    with sample.begin() as conn:
        conn.execute(text("INSERT INTO public.sample VALUES (1, '2010-01-01')"))
    with sample.begin() as conn:
        before = _file(conn)
        assert not take_if_empty(conn.connection.driver_connection, TABLE)
        assert _file(conn) == before and _exclusive_locks(conn) == 0
        assert conn.execute(text("SELECT count(*) FROM public.sample")).scalar() == 1


def test_a_reader_of_the_empty_table_makes_the_take_step_aside(sample: Engine) -> None:
    with sample.connect() as reader, sample.begin() as conn:
        reader.execute(text("SELECT count(*) FROM public.sample"))  # an open transaction holds its lock
        conn.execute(text("SET LOCAL lock_timeout = '5s'"))
        before = _file(conn)
        assert not take_if_empty(conn.connection.driver_connection, TABLE, lock_timeout="200ms")
        # the transaction goes on as before: nothing truncated, no lock kept, the caller's lock_timeout back
        assert _file(conn) == before and _exclusive_locks(conn) == 0
        assert conn.execute(text("SELECT current_setting('lock_timeout')")).scalar() == "5s"
        reader.rollback()


def test_a_table_that_a_foreign_key_refers_to_is_not_taken(sample: Engine) -> None:
    with sample.begin() as conn:
        conn.execute(text("ALTER TABLE public.sample ADD PRIMARY KEY (id)"))
        conn.execute(text("CREATE TABLE public.child (id integer REFERENCES public.sample (id))"))
    with sample.begin() as conn:
        assert not take_if_empty(conn.connection.driver_connection, TABLE)
        assert _exclusive_locks(conn) == 0
        conn.execute(text("SELECT 1"))  # the transaction is usable


def test_the_error_of_a_dropped_index_that_a_constraint_needs_rolls_the_take_back(sample: Engine) -> None:
    with sample.begin() as conn:
        conn.execute(text("ALTER TABLE public.sample ADD CONSTRAINT sample_id UNIQUE (id)"))
    with sample.begin() as conn:
        pg: psycopg.Connection = conn.connection.driver_connection
        before = _file(conn)
        assert not take_if_empty(pg, TABLE, then=lambda: drop_indexes(pg, TABLE))
        assert _file(conn) == before and _exclusive_locks(conn) == 0 and len(_indexes(conn)) == 2
