"""``retail-platform simulate-shop``: creates the shop database beside the warehouse, applies its schema and
writes orders; ``--follow`` keeps writing until interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from retail_platform.oltp.connection import resolve_shop_source
from retail_platform_tests.processes import clean_env


def _env(database_url: str) -> dict[str, str]:
    return clean_env({"RETAIL_WAREHOUSE_URL": database_url})


@pytest.fixture
def default_shop(database_url: str):
    source = resolve_shop_source(None, database_url)
    yield source
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{source.database}" WITH (FORCE)')


def _orders(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM shop.orders").fetchone()[0]


def test_simulate_shop_writes_orders_then_follows_until_interrupted(
    database_url, default_shop, tmp_path: Path
):
    command = [sys.executable, "-m", "retail_platform.cli", "simulate-shop", "--home", str(tmp_path / "home")]
    completed = subprocess.run(
        [*command, "--orders", "30", "--seed", "4"],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Created the shop database" in completed.stdout and "Applied the shop schema" in completed.stdout
    assert "Wrote 30 orders" in completed.stdout
    assert _orders(default_shop.url) == 30

    follow = subprocess.Popen(
        [*command, "--follow", "--rate", "20"],
        env=_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _orders(default_shop.url) < 35 and time.monotonic() < deadline:
            time.sleep(0.5)
        follow.send_signal(signal.SIGINT)
        output, _ = follow.communicate(timeout=60)
    finally:
        if follow.poll() is None:
            follow.kill()
    assert follow.returncode == 0, output
    assert "Stopped: wrote" in output and _orders(default_shop.url) >= 35
