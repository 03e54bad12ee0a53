"""Where the shop's OLTP database is, creating it, and applying its schema (``sql/oltp/NNN_*.sql``).

``RETAIL_OLTP_URL`` names the database. Unset, the shop lives beside the warehouse: the database
``<warehouse database>_shop`` on the warehouse's server (with the zero-setup default, the embedded server:
``retail_shop``). A default database that does not exist yet means "no shop yet": the extract and its sensor
do nothing until ``retail-platform simulate-shop`` (or the real application) creates it. An explicit URL that
cannot be reached is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from retail_platform.warehouse.connection import libpq_url, redact, with_database
from retail_platform.warehouse.migrations import migrate
from retail_platform.warehouse.sql_files import sql_dir

OLTP_URL_ENV = "RETAIL_OLTP_URL"
DEFAULT_SUFFIX = "_shop"
_SCHEMA_LOCK_KEY = 7_311_010


@dataclass(frozen=True)
class ShopSource:
    """The shop database to read: its URL and whether someone configured it (``RETAIL_OLTP_URL``)."""

    url: str
    explicit: bool

    @property
    def database(self) -> str:
        return make_url(self.url).database or ""

    def describe(self) -> str:
        return redact(self.url) + ("" if self.explicit else " (default: beside the warehouse)")


def resolve_shop_source(explicit_url: str | None, warehouse_url: str) -> ShopSource:
    """``explicit_url`` (``RETAIL_OLTP_URL``), else ``<warehouse db>_shop`` on the warehouse's server."""
    if explicit_url:
        return ShopSource(libpq_url(explicit_url), explicit=True)
    warehouse = make_url(libpq_url(warehouse_url))
    database = f"{warehouse.database or 'retail'}{DEFAULT_SUFFIX}"
    return ShopSource(with_database(warehouse_url, database), False)


def _admin_url(url: str) -> str:
    return with_database(url, "postgres")


def database_exists(url: str) -> bool:
    """Whether the database of ``url`` exists (asked through the server's ``postgres`` database)."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError as error:
        if getattr(error, "sqlstate", None) == "3D000" or "does not exist" in str(error):
            return False
        raise


def ensure_database(url: str) -> bool:
    """Create the database of ``url`` when it is missing; True when this call created it."""
    if database_exists(url):
        return False
    name = make_url(url).database
    with psycopg.connect(_admin_url(url), autocommit=True, connect_timeout=10) as conn:
        try:
            conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.errors.DuplicateDatabase:
            return False
    return True


def schema_applied(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass('shop.order_lines') IS NOT NULL")).scalar_one()


def apply_shop_schema(engine: Engine) -> list[str]:
    """Apply every pending ``sql/oltp`` file, in order, once each (recorded in ``shop.schema_versions``)."""
    applied = migrate(engine, sql_dir() / "oltp", ledger="shop.schema_versions", lock_key=_SCHEMA_LOCK_KEY)
    return [migration.path.name for migration in applied]
