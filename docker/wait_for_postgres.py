"""Wait until Dagster's storage database and the warehouse accept connections: the first step of the `migrate`
service (docker-compose.yml).

Why a script instead of compose's `depends_on: postgres: condition: service_healthy`: with a managed server
(docker/compose.managed-postgres.yml) the bundled `postgres` service is switched off, and a dependency on it
could only be removed with Compose 2.24's `!reset`, which Docker Compose 1.x and older 2.x reject. Waiting here
works with every Compose version and with any server, bundled or managed, including one that is still starting
or running its init scripts (those run on a socket-only server, so TCP connections fail until they are done).

    python /opt/dagster/wait_for_postgres.py   # WAIT_FOR_POSTGRES_SECONDS (default 180)
"""

from __future__ import annotations

import os
import sys
import time

import psycopg

from retail_platform.warehouse.connection import libpq_url


def _targets() -> dict[str, str]:
    """Connection strings of the two databases, from the variables docker/dagster.yaml and the code read."""
    dagster = psycopg.conninfo.make_conninfo(
        host=os.environ["DAGSTER_POSTGRES_HOST"],
        port=os.environ.get("DAGSTER_POSTGRES_PORT") or "5432",
        user=os.environ["DAGSTER_POSTGRES_USER"],
        password=os.environ["DAGSTER_POSTGRES_PASSWORD"],
        dbname=os.environ["DAGSTER_POSTGRES_DB"],
    )
    return {"Dagster's storage": dagster, "the warehouse": libpq_url(os.environ["RETAIL_WAREHOUSE_URL"])}


def main() -> int:
    deadline = time.monotonic() + float(os.environ.get("WAIT_FOR_POSTGRES_SECONDS") or 180)
    for name, conninfo in _targets().items():
        while True:
            try:
                with psycopg.connect(conninfo, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                print(f"{name}: accepting connections", flush=True)
                break
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    print(f"{name}: not reachable: {error}", file=sys.stderr)
                    return 1
                time.sleep(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
