"""Scratch databases on a real PostgreSQL server, one per test (or per shop, per deployment)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

from retail_platform.warehouse.connection import engine_for, libpq_url


def with_database(url: str, database: str) -> str:
    """``url`` naming another database on the same server."""
    return libpq_url(make_url(url).set(database=database).render_as_string(hide_password=False))


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "rp_test") -> Iterator[str]:
    """A brand-new empty database on the server (its URL), dropped afterwards with whatever still uses it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
