"""Real processes for the live tests (the daemon tests, the deployment): a PostgreSQL server or a skip, free
ports, polling with diagnostics, and subprocesses in their own process group, logged to a file and killed
with everything they started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from retail_platform.warehouse.connection import libpq_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[1]


def admin_url_or_skip() -> str:
    """Admin URL of the tests' PostgreSQL server (``RETAIL_TEST_DATABASE_URL``, else 127.0.0.1:5432); the
    calling test skips when none is reachable."""
    url = libpq_url(os.environ.get("RETAIL_TEST_DATABASE_URL") or DEFAULT_SERVER)
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.skip(
            f"no PostgreSQL server reachable at {make_url(url).render_as_string(hide_password=True)} "
            f"(set RETAIL_TEST_DATABASE_URL): {error}"
        )
    return url


def wait_for(
    what: str, probe: Callable[[], Any], timeout: float, interval: float = 1.0, diagnose=None
) -> Any:
    """Poll ``probe`` until it returns a truthy value; fail with the last value or error after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as error:  # a probe may race a process that is starting
            last = error
        time.sleep(interval)
    details = diagnose() if diagnose else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})\n{details}")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any RETAIL_/DAGSTER_ setting (a new user's shell), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETAIL_", "DAGSTER_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **(extra or {})}


def run_cli(
    *args: str, home: Path, extra_env: dict | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    """``retail-platform ARGS --home HOME`` as a new user runs it, from the folder above the home."""
    return subprocess.run(
        [sys.executable, "-m", "retail_platform.cli", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(extra_env),
        cwd=home.parent,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A command run in its own session, its output appended to ``log``."""

    name: str
    command: list[str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self, env: dict[str, str], cwd: Path = PROJECT) -> None:
        with self.log.open("a") as log:
            log.write(f"\n=== start {' '.join(self.command)}\n")
            log.flush()
            self.popen = subprocess.Popen(
                self.command,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def stop(self, sig: int = signal.SIGTERM, grace: float = 20) -> None:
        """``sig`` to the whole process group, then SIGKILL if it is still there after ``grace`` seconds."""
        popen = self.popen
        if popen is None or popen.poll() is not None:
            return
        for current, wait in ((sig, grace), (signal.SIGKILL, 10)):
            try:
                os.killpg(popen.pid, current)
            except ProcessLookupError:
                return
            try:
                popen.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return f"--- {self.name}: no output"
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.name} ({self.log}):\n" + "\n".join(text)
