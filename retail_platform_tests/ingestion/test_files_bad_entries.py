"""What is not a readable regular file, dropped beside a good one (issue 13, defects 1, 6 and 14): an unreadable
file, symbolic links (out of the folder, to /etc/passwd, dangling), a FIFO, a directory named like a drop. The
good file loads; each bad entry gets a ledger row naming it and the reason, and is moved to rejected/ without
being opened; nothing blocks, nothing is read through a link; archive/ and rejected/ are private."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from retail_platform.ingestion.landing import load_landing
from retail_platform.sample_data import write_sample
from retail_platform.settings import RetailPaths
from retail_platform_tests.ingestion.files_support import (
    LOAD_DROP_WITHOUT_READ_OVERRIDE,
    child_env,
    child_output,
    good_drop,
    run_child,
)
from retail_platform_tests.ingestion.support import assert_accounting, count, ledger

HANG_GUARD_SECONDS = 300  # not a timing assertion: a load blocked on a FIFO would otherwise hang the suite


def land(engine: Engine, paths: RetailPaths, messages: list[str] | None = None):
    return load_landing(
        engine,
        paths.landing,
        paths.archive,
        paths.rejected,
        settle_seconds=0,
        progress=(messages if messages is not None else []).append,
    )


def by_name(engine: Engine) -> dict[str, dict]:
    return {row["file_name"]: row for row in ledger(engine)}


def test_an_unreadable_file_is_rejected_by_name_and_the_good_file_beside_it_loads(
    engine: Engine, database_url: str, paths: RetailPaths
) -> None:
    lines = good_drop(paths, ["good.csv"])
    secret = paths.landing / "secret.csv"
    write_sample(secret, 50, seed=7)
    secret.chmod(0)
    probe = paths.home / "probe"
    probe.write_text("x")
    probe.chmod(0)
    env = {**child_env(database_url, paths), "TEST_PROBE": str(probe)}
    for _ in range(2):  # the rerun finds nothing left to do: one row each, no error
        child_output(run_child(LOAD_DROP_WITHOUT_READ_OVERRIDE, env))
    rows = by_name(engine)
    assert set(rows) == {"good.csv", "secret.csv"}
    assert rows["good.csv"]["status"] == "loaded" and rows["good.csv"]["lines_loaded"] == lines["good.csv"]
    assert rows["secret.csv"]["status"] == "rejected"
    assert "cannot open secret.csv" in rows["secret.csv"]["error"]
    assert "Permission denied" in rows["secret.csv"]["error"]
    assert (paths.rejected / "secret.csv").exists() and (paths.archive / "good.csv").exists()
    report = (paths.rejected / "secret.csv.error.txt").read_text()
    assert "cannot open secret.csv" in report
    assert list(paths.landing.iterdir()) == []
    assert_accounting(engine)


def test_symbolic_links_are_not_followed(engine: Engine, paths: RetailPaths, tmp_path: Path) -> None:
    lines = good_drop(paths, ["good.csv"])
    elsewhere = tmp_path / "elsewhere" / "outside.csv"
    elsewhere.parent.mkdir()
    write_sample(elsewhere, 40, seed=99)
    inside = paths.landing / "inside.csv"
    write_sample(paths.home / "inside_target.csv", 40, seed=98)
    (paths.landing / "outside.csv").symlink_to(elsewhere)
    (paths.landing / "passwd.csv").symlink_to("/etc/passwd")
    (paths.landing / "dangling.csv").symlink_to(tmp_path / "no-such-file.csv")
    inside.symlink_to(paths.home / "inside_target.csv")
    messages: list[str] = []
    land(engine, paths, messages)

    rows = by_name(engine)
    assert rows["good.csv"]["lines_loaded"] == lines["good.csv"]
    for name in ("outside.csv", "passwd.csv", "dangling.csv", "inside.csv"):
        assert rows[name]["status"] == "rejected", name
        assert rows[name]["error"].startswith("symbolic link, not loaded"), rows[name]
        assert rows[name]["lines_read"] == 0
        moved = paths.rejected / name
        assert moved.is_symlink(), name  # the link itself, not a copy of what it points at
    assert count(engine, "raw.transactions") == lines["good.csv"]
    passwd_first_line = Path("/etc/passwd").read_text().splitlines()[0]
    reports = "".join(path.read_text() for path in paths.rejected.glob("*.error.txt"))
    everything = reports + "\n".join(messages) + "".join(str(row) for row in rows.values())
    assert passwd_first_line not in everything
    assert elsewhere.exists() and (paths.home / "inside_target.csv").exists()  # targets left alone
    assert_accounting(engine)


def test_directories_fifos_and_dangling_links_named_like_drops_are_recorded_not_opened(
    engine: Engine, paths: RetailPaths
) -> None:
    lines = good_drop(paths, ["good.csv"])
    (paths.landing / "folder.csv").mkdir()
    (paths.landing / "subfolder").mkdir()  # a plain subfolder is the user's: left alone
    os.mkfifo(paths.landing / "pipe.csv")
    (paths.landing / "gone.csv").symlink_to(paths.home / "gone")
    loader = threading.Thread(target=land, args=(engine, paths), daemon=True)
    loader.start()
    loader.join(HANG_GUARD_SECONDS)
    if loader.is_alive():  # unblock the reader of the FIFO so the test process can end
        os.close(os.open(paths.landing / "pipe.csv", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the load blocked on the FIFO")
    rows = by_name(engine)
    assert rows["good.csv"]["lines_loaded"] == lines["good.csv"]
    assert rows["folder.csv"]["error"].startswith("a directory, not a file")
    assert rows["pipe.csv"]["error"].startswith("a FIFO (named pipe)")
    assert rows["gone.csv"]["error"].startswith("symbolic link, not loaded")
    assert "subfolder" not in rows
    assert {path.name for path in paths.landing.iterdir()} == {"subfolder"}
    assert stat.S_ISFIFO(os.lstat(paths.rejected / "pipe.csv").st_mode)
    assert (paths.rejected / "folder.csv").is_dir()


def test_archive_and_rejected_are_private(engine: Engine, paths: RetailPaths) -> None:
    good_drop(paths, ["good.csv"])
    (paths.landing / "bad.csv").write_text("not,a,sales,file\n1,2,3,4\n")
    assert paths.archive.stat().st_mode & 0o077  # ensure() made them with the umask: readable by others
    land(engine, paths)
    for folder in (paths.archive, paths.rejected):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    report = paths.rejected / "bad.csv.error.txt"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_the_commands_make_archive_rejected_and_the_dagster_home_private(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from retail_platform.cli.environment import prepare

    monkeypatch.setenv("RETAIL_WAREHOUSE_URL", database_url)
    monkeypatch.delenv("RETAIL_LANDING", raising=False)
    settings, started = prepare(argparse.Namespace(home=str(tmp_path / "home")))
    assert not started
    for folder in (settings.paths.archive, settings.paths.rejected, settings.instance_home):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_named_entries_as_the_sensor_requests_them_are_recorded_too(
    engine: Engine, paths: RetailPaths
) -> None:
    """load_file_job names the files; a link or FIFO among them is recorded and moved, never opened."""
    lines = good_drop(paths, ["good.csv"])
    os.mkfifo(paths.landing / "pipe.csv")
    (paths.landing / "passwd.csv").symlink_to("/etc/passwd")
    named = [paths.landing / name for name in ("pipe.csv", "passwd.csv", "good.csv")]
    loader = threading.Thread(
        target=lambda: load_landing(
            engine, paths.landing, paths.archive, paths.rejected, files=named, progress=lambda _: None
        ),
        daemon=True,
    )
    loader.start()
    loader.join(HANG_GUARD_SECONDS)
    if loader.is_alive():
        os.close(os.open(paths.landing / "pipe.csv", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("the load blocked on the FIFO")
    rows = by_name(engine)
    assert rows["good.csv"]["lines_loaded"] == lines["good.csv"]
    assert rows["pipe.csv"]["status"] == rows["passwd.csv"]["status"] == "rejected"
    assert rows["passwd.csv"]["error"].startswith("symbolic link, not loaded")
    assert list(paths.landing.iterdir()) == []
