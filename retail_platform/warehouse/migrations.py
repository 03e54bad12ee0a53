"""Numbered SQL migrations, applied once each, in order, and recorded.

``sql/migrations/NNN_name.sql`` files run in their own transaction under an advisory lock, so that two
processes starting at once (webserver and daemon, two test workers) never apply the same file twice. A
checksum is stored with each version: editing an applied migration is reported instead of silently ignored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from retail_platform.warehouse.sql_files import run_script, sql_dir

_MIGRATION_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_311_001  # any constant shared by every process of the platform


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(folder: Path | None = None) -> list[Migration]:
    folder = folder or sql_dir() / "migrations"
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name must look like 001_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {folder}")
    return found


def migrate(
    engine: Engine,
    folder: Path | None = None,
    *,
    ledger: str = "meta.schema_migrations",
    lock_key: int = _LOCK_KEY,
) -> list[Migration]:
    """Apply every pending migration of ``folder`` (default ``sql/migrations``), recording each in ``ledger``
    (``schema.table``); return the ones applied by this call. The shop's OLTP schema uses the same mechanism
    with its own folder, ledger and lock."""
    schema, table = ledger.split(".")
    quote = engine.dialect.identifier_preparer.quote
    ledger_sql = f"{quote(schema)}.{quote(table)}"
    applied_now: list[Migration] = []
    with engine.connect() as lock_conn:
        # Session-level lock held on one dedicated connection for the whole run.
        lock_conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key})
        lock_conn.commit()
        try:
            with engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}"))
                conn.execute(
                    text(
                        f"CREATE TABLE IF NOT EXISTS {ledger_sql} ("
                        " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())"
                    )
                )
                done = dict(conn.execute(text(f"SELECT version, checksum FROM {ledger_sql}")).all())
            for migration in discover(folder):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise RuntimeError(
                            f"migration {migration.path.name} was edited after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                with engine.begin() as conn:
                    run_script(conn, migration.sql)
                    conn.execute(
                        text(f"INSERT INTO {ledger_sql} (version, name, checksum) VALUES (:v, :n, :c)"),
                        {"v": migration.version, "n": migration.name, "c": migration.checksum},
                    )
                applied_now.append(migration)
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key})
            lock_conn.commit()
    return applied_now
