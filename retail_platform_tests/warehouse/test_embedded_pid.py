"""A killed embedded server whose pid is a zombie (its parent never reaped it) counts as stopped, unless a
process of it still runs in its data folder (``embedded._stale_postmaster_pid``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from retail_platform.warehouse import embedded

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def _zombie() -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # exits at once; not waited for: a zombie
    deadline = time.monotonic() + 30
    while embedded._process_state(child.pid) != "Z":
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.05)
    return child


def _pgdata(tmp_path: Path, pid: int) -> Path:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "postmaster.pid").write_text(f"{pid}\n{pgdata}\n")
    return pgdata


def test_a_zombie_postmaster_is_stale_and_not_running(tmp_path):
    child = _zombie()
    try:
        pgdata = _pgdata(tmp_path, child.pid)
        assert embedded._stale_postmaster_pid(pgdata)
        assert not embedded._is_running(pgdata)
    finally:
        child.wait()


def test_a_live_postmaster_or_a_live_backend_is_not_stale(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child = _zombie()
    try:
        (tmp_path / "live").mkdir()
        assert not embedded._stale_postmaster_pid(_pgdata(tmp_path / "live", live.pid))
        pgdata = _pgdata(tmp_path, child.pid)
        backend = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], cwd=pgdata)
        try:
            time.sleep(0.2)
            assert not embedded._stale_postmaster_pid(pgdata)  # a backend of it still runs in the folder
        finally:
            backend.kill()
            backend.wait()
        assert embedded._stale_postmaster_pid(pgdata)
    finally:
        live.kill()
        live.wait()
        child.wait()
