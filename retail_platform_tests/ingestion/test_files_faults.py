"""Faults around a load (issue 13, defects 2, 5 and 7, and the kill -9 matrix): a writer still appending, a
read-only landing folder, two loads at once on one landing folder and one warehouse, two processes starting the
embedded server of a fresh home at once, and the loader killed with SIGKILL mid-COPY and between the commit and
the move. Each ends with every line loaded exactly once and one ledger row per file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine

from retail_platform.ingestion.landing import load_landing
from retail_platform.sample_data import write_sample
from retail_platform.settings import RetailPaths
from retail_platform_tests.ingestion.files_support import (
    LOAD_DROP,
    REPO,
    child_env,
    child_output,
    good_drop,
    read_only_mount_prefix,
    run_child,
)
from retail_platform_tests.ingestion.support import assert_accounting, count, ledger
from retail_platform_tests.processes import clean_env

# Appends the lines of a source CSV to a target, each line in two writes with a pause between, until a stop
# file appears (then finishes its line and exits) or the source is exhausted.
WRITER = """
import os, sys, time
source, target, stop = sys.argv[1:]
with open(source, newline="") as lines, open(target, "w", newline="") as out:
    for line in lines:
        half = len(line) // 2
        out.write(line[:half]); out.flush(); time.sleep(0.01)
        out.write(line[half:]); out.flush(); time.sleep(0.01)
        if os.path.exists(stop):
            break
"""

# LOAD_DROP once a "go" file exists, so that two children start their loads at the same moment.
LOAD_AT_GO = (
    """
import os, time
while not os.path.exists(os.environ["TEST_GO"]):
    time.sleep(0.005)
"""
    + LOAD_DROP
)


def land(engine: Engine, paths: RetailPaths, settle_seconds: float = 0, messages: list[str] | None = None):
    return load_landing(
        engine,
        paths.landing,
        paths.archive,
        paths.rejected,
        settle_seconds=settle_seconds,
        progress=(messages if messages is not None else []).append,
    )


def by_name(engine: Engine) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in ledger(engine):
        rows.setdefault(row["file_name"], []).append(row)
    return rows


def assert_each_loaded_once(engine: Engine, paths: RetailPaths, lines: dict[str, int]) -> None:
    rows = by_name(engine)
    assert set(rows) == set(lines)
    for name, written in lines.items():
        assert [row["status"] for row in rows[name]] == ["loaded"], rows[name]
        assert rows[name][0]["lines_read"] == written
        assert (paths.archive / name).exists()
    loaded = sum(row["lines_loaded"] for file_rows in rows.values() for row in file_rows)
    assert count(engine, "raw.transactions") == loaded
    assert loaded + sum(r["lines_already_present"] for f in rows.values() for r in f) == sum(lines.values())
    assert sorted(path.name for path in paths.archive.iterdir()) == sorted(lines)
    assert list(paths.landing.iterdir()) == []
    assert_accounting(engine)


def test_a_file_still_being_written_is_left_for_later_and_loads_whole_once_finished(
    engine: Engine, paths: RetailPaths, tmp_path: Path
) -> None:
    lines = good_drop(paths, ["good.csv"])
    source = tmp_path / "source.csv"
    write_sample(source, 3000, seed=5)
    growing, stop = paths.landing / "growing.csv", tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(source), str(growing), str(stop)])
    try:
        while not growing.exists() or growing.stat().st_size < 2000:
            assert writer.poll() is None, "the writer ended early"
            time.sleep(0.05)
        messages: list[str] = []
        land(engine, paths, settle_seconds=1.0, messages=messages)
        assert writer.poll() is None, "the writer ended before the load: the test proved nothing"
    finally:
        stop.touch()
        writer.wait()
    rows = by_name(engine)
    assert set(rows) == {"good.csv"}, "the half-written file was loaded"
    assert any(message.startswith("growing.csv: left for a later run") for message in messages), messages
    assert growing.exists()

    land(engine, paths, settle_seconds=1.0)  # finished: it keeps its size for a second, then loads whole
    written = len(growing.read_bytes().splitlines()) if growing.exists() else None
    final = by_name(engine)["growing.csv"]
    assert len(final) == 1 and final[0]["status"] == "loaded" and final[0]["lines_rejected"] == 0
    archived = paths.archive / "growing.csv"
    assert written is None and final[0]["lines_read"] == len(archived.read_bytes().splitlines()) - 1
    assert count(engine, "raw.transactions", "source_file = 'growing.csv'") == final[0]["lines_loaded"]
    assert count(engine, "raw.transactions") == lines["good.csv"] + final[0]["lines_loaded"]


def test_a_read_only_landing_folder_loads_each_file_once_without_new_rows_or_copies(
    engine: Engine, database_url: str, paths: RetailPaths
) -> None:
    prefix = read_only_mount_prefix(paths.landing)
    lines = good_drop(paths, ["one.csv", "two.csv"])
    env = child_env(database_url, paths)
    first = child_output(run_child(LOAD_DROP, env, prefix))
    assert [result["status"] for result in first["results"]] == ["loaded", "loaded"]
    assert any("Read-only file system" in message for message in first["messages"]), first["messages"]
    for _ in range(2):  # reruns: recognised, one line each, no new ledger row, no archive copy
        again = child_output(run_child(LOAD_DROP, env, prefix))
        assert again["results"] == []
        assert sum("left in the landing folder" in message for message in again["messages"]) == 2
    rows = by_name(engine)
    assert {name: len(file_rows) for name, file_rows in rows.items()} == {"one.csv": 1, "two.csv": 1}
    assert all("Read-only" in file_rows[0]["left_in_landing"] for file_rows in rows.values())
    assert list(paths.archive.iterdir()) == []
    assert count(engine, "raw.transactions") == sum(lines.values())

    land(engine, paths)  # the folder is writable again (outside the namespace): filed away, nothing loaded
    assert_each_loaded_once(engine, paths, lines)
    assert all(row[0]["left_in_landing"] is None for row in by_name(engine).values())


def test_two_loads_at_once_on_one_landing_folder_and_warehouse(
    engine: Engine, database_url: str, paths: RetailPaths, tmp_path: Path
) -> None:
    lines = good_drop(paths, [f"drop{number}.csv" for number in range(8)], rows=400)
    go = tmp_path / "go"
    env = {**child_env(database_url, paths), "TEST_GO": str(go), "PYTHONUNBUFFERED": "1"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", LOAD_AT_GO],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    time.sleep(2)  # both interpreters up and waiting (not an assertion: the barrier is the go file)
    go.touch()
    outputs = [child.communicate(timeout=600) for child in children]
    for child, (_, stderr) in zip(children, outputs, strict=True):
        assert child.returncode == 0, stderr.decode()[-3000:]
    assert_each_loaded_once(engine, paths, lines)


def test_two_processes_start_the_embedded_server_of_a_fresh_home_at_once(tmp_path: Path) -> None:
    pgdata = tmp_path / "home" / "pgdata"
    go = tmp_path / "go"
    code = f"""
import os, time
from pathlib import Path
while not os.path.exists({str(go)!r}):
    time.sleep(0.005)
from retail_platform.warehouse.embedded import start_embedded
print(start_embedded(Path({str(pgdata)!r}), database="retail"))
"""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        time.sleep(2)
        go.touch()
        outputs = [child.communicate(timeout=600) for child in children]
        for child, (_, stderr) in zip(children, outputs, strict=True):
            assert child.returncode == 0, stderr.decode()[-3000:]
        urls = {stdout.decode().strip().splitlines()[-1] for stdout, _ in outputs}
        assert len(urls) == 1
        import psycopg

        with psycopg.connect(urls.pop()) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("retail",)
    finally:
        from retail_platform.warehouse.embedded import stop_embedded

        stop_embedded(pgdata)


# --- kill -9 -------------------------------------------------------------------------------------------------

KILL_MID_COPY = (
    """
import os, signal, psycopg
original = psycopg.Copy.write
def write(self, buffer):
    original(self, buffer)
    os.kill(os.getpid(), signal.SIGKILL)  # part of the block is on its way to the server
psycopg.Copy.write = write
"""
    + LOAD_DROP
)

KILL_AFTER_COMMIT = (
    """
import os, signal
from retail_platform.ingestion import landing
def file_away(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # the first file's load is committed, it is not moved yet
landing.file_away = file_away
"""
    + LOAD_DROP
)


def _killed_loading_a_drop(script: str, database_url: str, paths: RetailPaths) -> dict[str, int]:
    """Three good files dropped, then a loader child process that ``script`` kills with SIGKILL: lines per
    file."""
    lines = good_drop(paths, ["a.csv", "b.csv", "c.csv"])
    killed = run_child(script, child_env(database_url, paths))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    return lines


def test_the_loader_killed_mid_copy_leaves_nothing_and_the_rerun_loads_every_line_once(
    engine: Engine, database_url: str, paths: RetailPaths
) -> None:
    lines = _killed_loading_a_drop(KILL_MID_COPY, database_url, paths)
    assert ledger(engine) == [] and count(engine, "raw.transactions") == 0
    assert sorted(path.name for path in paths.landing.iterdir()) == sorted(lines)
    land(engine, paths)
    assert_each_loaded_once(engine, paths, lines)


def test_the_loader_killed_after_the_commit_before_the_move_and_the_rerun_loads_every_line_once(
    engine: Engine, database_url: str, paths: RetailPaths
) -> None:
    lines = _killed_loading_a_drop(KILL_AFTER_COMMIT, database_url, paths)
    assert [row["file_name"] for row in ledger(engine)] == ["a.csv"]  # committed, still in the landing folder
    assert sorted(path.name for path in paths.landing.iterdir()) == sorted(lines)
    messages: list[str] = []
    land(engine, paths, messages=messages)
    assert any(message.startswith("a.csv: already loaded as load") for message in messages), messages
    assert_each_loaded_once(engine, paths, lines)  # no `duplicate` row for a.csv


def test_two_retail_platform_runs_at_once_on_a_fresh_home(tmp_path: Path) -> None:
    """Two real `retail-platform run` commands started together on a home with no server yet: both end with
    exit status 0 and no traceback, every file is loaded once by one of them, the server is not stopped under
    the other (was: UniqueViolation on CREATE DATABASE, a half-written postmaster.pid, FileNotFoundError)."""

    import psycopg

    from retail_platform.settings import retail_paths
    from retail_platform.warehouse.embedded import start_embedded, stop_embedded

    paths = retail_paths(tmp_path / "home").ensure()
    lines = good_drop(paths, [f"drop{number}.csv" for number in range(4)], rows=500)
    env = clean_env()
    command = [sys.executable, "-m", "retail_platform.cli", "run", "--home", str(paths.home)]
    try:
        children = [
            subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(2)
        ]
        outputs = [child.communicate(timeout=1200)[0].decode() for child in children]
        for output in outputs:
            assert "Traceback" not in output, output[-4000:]
            assert 'step "raw_transactions" failed' not in output, output[-4000:]
        with psycopg.connect(start_embedded(paths.pgdata, database="retail")) as conn:
            rows = conn.execute(
                "SELECT file_name, status, lines_read FROM raw.file_loads ORDER BY 1"
            ).fetchall()
            stored = conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0]
        assert rows == [(name, "loaded", lines[name]) for name in sorted(lines)]
        assert stored == sum(lines.values())
        assert sorted(path.name for path in paths.archive.iterdir()) == sorted(lines)
        # both full refreshes succeed too: writers of a table take turns (bulk.take_write_turn)
        failed = [output for child, output in zip(children, outputs, strict=True) if child.returncode != 0]
        assert not failed, failed[0][-4000:]
    finally:
        stop_embedded(paths.pgdata)


def test_a_file_that_grows_while_it_is_read_is_rolled_back_and_left(
    engine: Engine, paths: RetailPaths, monkeypatch
) -> None:
    """The writer appends after the reader reached the end of the file: the load must not commit what it read
    (settle_seconds=0, so only the loader's own check after the last line stands between)."""
    from retail_platform.ingestion import loader

    lines = good_drop(paths, ["good.csv", "late.csv"])
    late = paths.landing / "late.csv"
    original = loader.read_exports

    def read_then_append(path: Path):
        yield from original(path)
        if path.name == "late.csv":
            with late.open("a") as stream:
                stream.write("536365,85123A,WHITE HANGING HEART")  # half a line, as a writer in mid-flight

    monkeypatch.setattr(loader, "read_exports", read_then_append)
    messages: list[str] = []
    land(engine, paths, messages=messages)
    assert set(by_name(engine)) == {"good.csv"}
    assert any(message.startswith("late.csv changed while it was read") for message in messages), messages
    assert count(engine, "raw.transactions") == lines["good.csv"]
    assert late.exists()
