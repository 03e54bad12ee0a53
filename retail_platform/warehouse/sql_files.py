"""Locating and reading the SQL files in ``sql/`` (migrations and one transform per table)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path


def sql_dir() -> Path:
    """The SQL files, as package data: ``retail_platform/sql`` is a link to the checkout's top-level ``sql/``
    in a checkout (editable installs) and a real folder in a wheel, so every kind of install finds them."""
    folder = Path(str(files("retail_platform") / "sql"))
    if not folder.is_dir():
        raise FileNotFoundError(f"SQL folder not found at {folder}: the installed package is incomplete")
    return folder


@cache
def read_sql(relative_path: str) -> str:
    """The text of ``sql/<relative_path>``, cached for the life of the process."""
    return (sql_dir() / relative_path).read_text(encoding="utf-8")


def transform_sql(table: str) -> str:
    """The transform that builds ``schema.table``: ``sql/transforms/<schema>/<table>.sql``."""
    schema, name = table.split(".")
    return read_sql(f"transforms/{schema}/{name}.sql")


def run_script(conn, sql: str) -> None:
    """Run parameterless SQL (possibly several statements) on a SQLAlchemy connection, in its transaction.

    Goes straight to psycopg so that ``%`` in the SQL (the modulo operator) is not read as a placeholder.
    """
    conn.connection.driver_connection.execute(sql)
