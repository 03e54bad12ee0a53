"""Taking an empty table for a first bulk write: the load of the first big file into ``raw.transactions`` and
the first build of ``clean.order_lines``.

A table truncated in the writing transaction gets new files: PostgreSQL then writes its rows (and its indexes'
entries) without WAL on a server with ``wal_level = minimal`` such as the embedded one, syncing the files at
commit instead, and a COPY may freeze them. Truncating needs an ACCESS EXCLUSIVE lock held until the commit, so
this is done only to a table that is empty (its readers lose nothing: they wait for the first rows instead of
seeing none), and only when the lock comes within ``lock_timeout``: a reader's open transaction on the empty
table never stalls the write, which then goes on the usual way (MVCC, readers never wait).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

# Errors that mean "not this way": the lock did not come in time, a foreign key refers to the table, or (for a
# caller dropping indexes in ``then``) a constraint relies on an index.
_NOT_TAKEN = (
    psycopg.errors.LockNotAvailable,
    psycopg.errors.FeatureNotSupported,
    psycopg.errors.DependentObjectsStillExist,
)


def _has_rows(pg: psycopg.Connection, table: sql.Composable) -> bool:
    return bool(pg.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(table)).fetchone()[0])


def take_if_empty(
    pg: psycopg.Connection, table: str, lock_timeout: str = "2s", then: Callable[[], None] | None = None
) -> bool:
    """Truncate ``table`` (``schema.name``) in ``pg``'s open transaction when it is empty and its exclusive lock
    comes within ``lock_timeout``, then call ``then()`` (more work under the same lock, such as dropping
    indexes to build once at the end); whether it was taken. Not taken, the transaction is as before: no lock
    is kept."""
    target = sql.Identifier(*table.split("."))
    if _has_rows(pg, target):
        return False
    before = pg.execute("SELECT current_setting('lock_timeout')").fetchone()[0]
    pg.execute("SAVEPOINT take_if_empty")
    try:
        pg.execute("SELECT set_config('lock_timeout', %s, true)", (lock_timeout,))
        pg.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(target))
        pg.execute("SELECT set_config('lock_timeout', %s, true)", (before,))
        if _has_rows(pg, target):  # rows committed between the first look and the lock
            raise _Busy
        pg.execute(sql.SQL("TRUNCATE {}").format(target))
        if then is not None:
            then()
    except (_Busy, *_NOT_TAKEN):
        pg.execute("ROLLBACK TO SAVEPOINT take_if_empty")  # releases the lock, restores lock_timeout
        return False
    pg.execute("RELEASE SAVEPOINT take_if_empty")
    return True


def drop_indexes(pg: psycopg.Connection, table: str) -> list[str]:
    """Drop the indexes of ``table`` in ``pg``'s transaction (a table just taken with ``take_if_empty``: one
    build at the end costs a fraction of inserting every row into them); their definitions, to build again."""
    indexes = pg.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = CAST(%s AS regclass)",
        (table,),
    ).fetchall()
    for name, _ in indexes:
        pg.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # regclass text: already quoted
    return [definition for _, definition in indexes]


class _Busy(Exception):
    """The table got rows before its lock came."""
