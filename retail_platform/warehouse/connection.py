"""Turning configuration into a SQLAlchemy engine on psycopg 3."""

from __future__ import annotations

import contextlib
import uuid
import weakref
from collections.abc import Iterator
from functools import lru_cache

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from retail_platform.settings import (
    WAREHOUSE_URL,
    RetailPaths,
    SettingError,
    check_postgres_url,
    masked_url,
)
from retail_platform.warehouse.embedded import start_embedded


def _parse(url: str, setting: str) -> URL:
    """``url`` parsed once its scheme is known to be PostgreSQL's; one ``SettingError`` line otherwise."""
    check_postgres_url(setting, url)
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as error:  # e.g. a port that is not a number
        raise SettingError(f"{setting} is not a valid URL ({error}): {masked_url(url)}") from None


def sqlalchemy_url(url: str, setting: str = WAREHOUSE_URL) -> str:
    """Accept any PostgreSQL URL spelling and pin the psycopg 3 driver (any other scheme: ``SettingError``)."""
    parsed = _parse(url, setting)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str, setting: str = WAREHOUSE_URL) -> str:
    """The same URL without a SQLAlchemy driver suffix, for psycopg and libpq tools. The scheme is checked
    before it is rewritten: ``mysql://`` is a ``SettingError`` naming ``setting``, never tried as PostgreSQL."""
    parsed = _parse(url, setting)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """``url`` naming another database on the same server (libpq spelling)."""
    return libpq_url(make_url(url).set(database=database).render_as_string(hide_password=False))


def resolve_warehouse_url(url: str | None, paths: RetailPaths) -> str:
    """The warehouse URL: the one given (``RETAIL_WAREHOUSE_URL``), else the embedded server's under
    ``paths`` (started when it is not running)."""
    if url:
        return libpq_url(url)
    return start_embedded(paths.pgdata)


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def pooled_engine(url: str, application_name: str, max_overflow: int) -> Engine:
    """A small pre-pinged pool on psycopg 3, named ``application_name`` in pg_stat_activity."""
    engine = create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=max_overflow,
        connect_args={"application_name": application_name},
    )
    _ENGINES.add(engine)
    return engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per URL and process; connections are cheap to reuse across assets."""
    return pooled_engine(url, "retail_platform", max_overflow=4)


def dispose_engines() -> None:
    """Close the pooled connections of every engine of this process (one server is often reached through
    several spellings of its URL): before the command that started the embedded server stops it, none of
    its own sessions may be left open."""
    for engine in list(_ENGINES):
        engine.dispose()


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


# SQLSTATEs of a server that went away or refuses connections (class 08; admin/crash shutdown; starting up)
_CONNECTION_STATES = ("57P01", "57P02", "57P03")


def connection_failure(error: BaseException) -> str | None:
    """The first line of the connection-level failure in ``error``'s chain (the server killed, refused,
    unreachable, shutting down), or None when ``error`` is something else (a bug, a failed query): the one
    thing a user should read instead of a traceback."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, psycopg.InterfaceError) or (
            isinstance(current, psycopg.OperationalError)
            and (
                current.sqlstate is None
                or current.sqlstate.startswith("08")
                or current.sqlstate in _CONNECTION_STATES
            )
        ):
            lines = [line.strip() for line in str(current).splitlines() if line.strip()]
            return masked_url(lines[0] if lines else type(current).__name__)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None
