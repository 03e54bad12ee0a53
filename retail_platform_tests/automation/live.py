"""A live platform for the daemon tests: a Dagster instance on PostgreSQL in a temporary ``DAGSTER_HOME``, the
code location as a gRPC code server and the Dagster daemon as real processes, the warehouse and the shop as
temporary databases; everything killed and dropped at the end.

The PostgreSQL server is ``RETAIL_TEST_DATABASE_URL`` (CI), else 127.0.0.1:5432; without one the tests skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from sqlalchemy.engine import make_url

from retail_platform.warehouse.connection import with_database
from retail_platform_tests.processes import BIN, Process, clean_env, free_port, wait_for


@dataclass
class LivePlatform:
    admin_url: str
    root: Path
    databases: dict[str, str] = field(default_factory=dict)  # role -> database name
    env: dict[str, str] = field(default_factory=dict)
    code_server: Process | None = None
    daemon: Process | None = None

    def db_url(self, role: str) -> str:
        return with_database(self.admin_url, self.databases[role])

    @property
    def landing(self) -> Path:
        return self.root / "retail_home" / "landing"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    def create(self, settings: dict[str, str]) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.databases = {role: f"rp_live_{role}_{suffix}" for role in ("dagster", "warehouse", "shop")}
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.databases.values():
                conn.execute(f'CREATE DATABASE "{name}"')
        admin = make_url(self.admin_url)
        self.dagster_home.mkdir(parents=True)
        self.landing.mkdir(parents=True)
        instance = {
            "storage": {
                "postgres": {
                    "postgres_db": {
                        "hostname": admin.host or "127.0.0.1",
                        "port": admin.port or 5432,
                        "username": admin.username or "postgres",
                        "password": admin.password or "",
                        "db_name": self.databases["dagster"],
                        # dagster-postgres needs psycopg2 (see the project's dagster.yaml)
                        "scheme": "postgresql+psycopg2",
                    }
                }
            },
            "run_coordinator": {
                "module": "dagster._core.run_coordinator",
                "class": "QueuedRunCoordinator",
                "config": {"dequeue_interval_seconds": 1},
            },
            # as the local and deployed instances: one load into the warehouse at a time
            "concurrency": {
                "runs": {"max_concurrent_runs": 2},
                "pools": {"granularity": "run", "default_limit": 1},
            },
            "run_monitoring": {"enabled": True, "poll_interval_seconds": 5},
            "telemetry": {"enabled": False},
        }
        (self.dagster_home / "dagster.yaml").write_text(yaml.safe_dump(instance, sort_keys=False))
        port = free_port()
        (self.dagster_home / "workspace.yaml").write_text(
            yaml.safe_dump(
                {
                    "load_from": [
                        {
                            "grpc_server": {
                                "host": "127.0.0.1",
                                "port": port,
                                "location_name": "retail_platform",
                            }
                        }
                    ]
                }
            )
        )
        env = clean_env()
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "DAGSTER_HOME": str(self.dagster_home),
                "RETAIL_HOME": str(self.root / "retail_home"),
                "RETAIL_WAREHOUSE_URL": self.db_url("warehouse"),
                "RETAIL_OLTP_URL": self.db_url("shop"),
                **settings,
            }
        )
        self.env = env
        logs = self.root / "logs"
        logs.mkdir()
        self.code_server = Process(
            "code_server",
            [
                str(BIN / "dagster"),
                "code-server",
                "start",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-m",
                "retail_platform.definitions",
                "--location-name",
                "retail_platform",
            ],
            logs / "code_server.log",
        )
        self.daemon = Process(
            "daemon",
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.dagster_home / "workspace.yaml")],
            logs / "daemon.log",
        )

    def start(self, startup_timeout: float = 240) -> None:
        subprocess.run(
            [str(BIN / "dagster"), "instance", "migrate"],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        self.code_server.start(self.env)
        port = int(
            yaml.safe_load((self.dagster_home / "workspace.yaml").read_text())["load_from"][0]["grpc_server"][
                "port"
            ]
        )

        def serving() -> bool:
            assert self.code_server.alive(), self.code_server.tail()
            from dagster._grpc.client import DagsterGrpcClient

            return DagsterGrpcClient(port=port, host="127.0.0.1").health_check_query() == "SERVING"

        wait_for("the code server", serving, startup_timeout, diagnose=self.diagnose)
        self.daemon.start(self.env)

    def restart_daemon(self, sig: int = signal.SIGKILL) -> None:
        self.daemon.stop(sig)
        self.daemon.start(self.env)

    def diagnose(self) -> str:
        return "\n".join(process.tail() for process in (self.code_server, self.daemon) if process)

    def instance(self):
        import dagster as dg

        previous = os.environ.get("DAGSTER_HOME")
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        try:
            return dg.DagsterInstance.get()
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = previous

    def query(self, sql: str, role: str = "warehouse", params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.db_url(role)) as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, role: str = "warehouse", params: tuple = ()) -> Any:
        return self.query(sql, role, params)[0][0]

    def teardown(self) -> None:
        for process in (self.daemon, self.code_server):
            if process:
                process.stop()
        if self.databases:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                for name in self.databases.values():
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
