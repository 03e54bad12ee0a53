"""Turning configuration into a SQLAlchemy engine on psycopg 3."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from functools import lru_cache

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from retail_platform.settings import RetailPaths
from retail_platform.warehouse.embedded import start_embedded


def sqlalchemy_url(url: str) -> str:
    """Accept any PostgreSQL URL spelling and pin the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"RETAIL_WAREHOUSE_URL must be a PostgreSQL URL, got backend {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL without a SQLAlchemy driver suffix, for psycopg and libpq tools."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """``url`` naming another database on the same server (libpq spelling)."""
    return libpq_url(make_url(url).set(database=database).render_as_string(hide_password=False))


def resolve_warehouse_url(url: str | None, paths: RetailPaths) -> str:
    """The warehouse URL: the one given (``RETAIL_WAREHOUSE_URL``), else the embedded server's under
    ``paths`` (started when it is not running)."""
    if url:
        return libpq_url(url)
    return start_embedded(paths.pgdata)


def pooled_engine(url: str, application_name: str, max_overflow: int) -> Engine:
    """A small pre-pinged pool on psycopg 3, named ``application_name`` in pg_stat_activity."""
    return create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=max_overflow,
        connect_args={"application_name": application_name},
    )


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per URL and process; connections are cheap to reuse across assets."""
    return pooled_engine(url, "retail_platform", max_overflow=4)


def redact(url: str) -> str:
    """A URL safe to print or log: the password is masked."""
    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A brand-new empty database ``<prefix>_<random>`` on the server (its URL), dropped afterwards with
    whatever still uses it: for tests and benchmarks, never the warehouse itself."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
