"""The file-drop sensor, tick by tick with ``build_sensor_context`` and a controlled clock: readiness (settling
across ticks, temporary names and renames), one batch run per tick with a tag per file, per-file retries under
new run keys, the cursor, and the bounds on a burst of files. No warehouse needed: the sensor only reads the
folder and the run history."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test
from dagster._utils.tags import is_valid_tag_key

from retail_platform.definitions import defs
from retail_platform.defs.automation import file_drop
from retail_platform.defs.automation.batch_tags import FILE_TAG_PREFIX, drops_of, file_tag_key, name_of
from retail_platform.defs.automation.file_drop import (
    Cursor,
    drop_id,
    evaluate,
    landing_file_sensor,
)
from retail_platform.defs.resources import RetailPathsResource
from retail_platform.ingestion.loader import file_digest
from retail_platform.settings import retail_paths
from retail_platform_tests.helpers import line, write_csv

SETTLE = 5.0


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return retail_paths(tmp_path / "home").ensure().landing


class Ticker:
    """Runs sensor ticks at chosen times, carrying the cursor from one tick to the next."""

    def __init__(self, instance: dg.DagsterInstance, landing: Path, **limits) -> None:
        self.instance = instance
        self.landing = landing
        self.cursor: str | None = None
        self.limits = {"settle_seconds": SETTLE, **limits}

    def __call__(self, now: float) -> dg.SensorResult:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor)
        result = evaluate(context, self.landing, now=now, **self.limits)
        self.cursor = result.cursor
        return result

    def settled(self, now: float) -> dg.SensorResult:
        """A tick at ``now`` that sees the files, then the tick once they have kept still for the settle time."""
        self(now)
        return self(now + SETTLE + 1)


def _drop(landing: Path, name: str, rows: int = 3, invoice: str = "500000") -> Path:
    return write_csv(landing / name, [line(invoice=invoice, quantity=i + 1) for i in range(rows)])


def _first_run(instance: dg.DagsterInstance, landing: Path, name: str, status: dg.DagsterRunStatus):
    """``(tick, t0, path, request)``: ``name`` dropped at ``t0``, requested once settled, its run ended in
    ``status``."""
    tick = Ticker(instance, landing)
    t0 = time.time()
    path = _drop(landing, name)
    (request,) = tick.settled(t0).run_requests
    _record(instance, request, status)
    return tick, t0, path, request


def _files(result: dg.SensorResult) -> list[str]:
    """The files of the tick's (one) run, in the order the run loads them."""
    requests = result.run_requests or []
    assert len(requests) <= 1, "one run per tick"
    return [name for request in requests for name in _config_files(request)]


def _config_files(request: dg.RunRequest) -> list[str]:
    return request.run_config["ops"]["raw_transactions"]["config"]["files"]


def _record(instance: dg.DagsterInstance, request: dg.RunRequest, status: dg.DagsterRunStatus, **extra):
    """A run of the request in the instance, as the daemon would have created it."""
    return create_run_for_test(
        instance, job_name="load_file_job", status=status, tags={**request.tags, **extra}
    )


def _skip(result: dg.SensorResult) -> str:
    assert not result.run_requests, _files(result)
    return result.skip_reason.skip_message


def test_a_file_is_ready_once_its_size_and_mtime_stay_the_same_across_ticks(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    path = _drop(landing, "day1.csv")
    assert "settling" in _skip(tick(t0)) and "day1.csv" in _skip(tick(t0))
    # Still growing: appended to before the settle window passed, the window starts again.
    with path.open("a") as stream:
        stream.write(",".join(line(invoice="500001")) + "\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert "settling" in _skip(tick(t0 + 3))
    assert "settling" in _skip(tick(t0 + 3 + SETTLE - 1))
    result = tick(t0 + 3 + SETTLE + 1)
    assert _files(result) == ["day1.csv"]
    (request,) = result.run_requests
    sha, _ = file_digest(path)
    assert request.tags[file_tag_key("day1.csv")] == drop_id("day1.csv", sha)
    assert drops_of(request.tags) == [drop_id("day1.csv", sha)]
    assert request.tags["retail/landing_files"] == "1"
    dg.validate_run_config(defs.resolve_job_def("load_file_job"), request.run_config)


def test_temporary_names_are_never_loaded_and_a_rename_is_ready_at_once(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    partial = _drop(landing, "day2.csv.part")
    (landing / ".hidden.csv").write_text("x")
    for offset in (0, 60, 600):
        reason = _skip(tick(t0 + offset))
        assert "being written under a temporary name" in reason and "day2.csv.part" in reason
    partial.rename(landing / "day2.csv")
    # The sensor saw the temporary name on the previous tick: the rename says the file is complete.
    assert _files(tick(t0 + 601)) == ["day2.csv"]


def test_a_file_renamed_in_unseen_waits_one_settle_window(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    _drop(landing, "day3.csv.tmp").rename(landing / "day3.csv")  # the temporary name was never seen
    assert "settling" in _skip(tick(t0))
    assert _files(tick(t0 + SETTLE + 1)) == ["day3.csv"]


def test_a_file_last_written_before_the_settle_window_is_ready_on_the_tick_that_first_sees_it(
    instance, landing
):
    """Moved in (``mv``), or written and renamed a while ago: its mtime shows it unchanged long enough, so it
        does not wait for a second tick (the drop-to-marts latency, issue 12). One written under a minute ago
    still does."""
    tick = Ticker(instance, landing)
    t0 = time.time()
    moved = _drop(landing, "moved_in.csv", invoice="1")
    os.utime(moved, (t0 - 61, t0 - 61))
    recent = _drop(landing, "written_30_s_ago.csv", invoice="2")  # a writer's clock may be a little behind
    os.utime(recent, (t0 - 30, t0 - 30))
    result = tick(t0)
    assert _files(result) == ["moved_in.csv"]


def test_files_with_old_modification_times_are_seen_and_loaded_oldest_first(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    _drop(landing, "new.csv", invoice="1")
    assert _files(tick.settled(t0)) == ["new.csv"]
    # Copied in later with an mtime from 2010 (cp -p, rsync -t): no mtime high-water mark hides it.
    old = _drop(landing, "from_2010.csv", invoice="2")
    older = _drop(landing, "from_2009.csv", invoice="3")
    os.utime(old, (1_280_000_000, 1_280_000_000))
    os.utime(older, (1_260_000_000, 1_260_000_000))
    result = tick.settled(t0 + 20)
    assert _files(result)[:2] == ["from_2009.csv", "from_2010.csv"]


def test_one_run_per_file_and_none_while_its_run_is_in_flight(instance, landing):
    tick, t0, _, _request = _first_run(instance, landing, "a.csv", dg.DagsterRunStatus.NOT_STARTED)
    reason = _skip(tick(t0 + 30))
    assert "1 load run(s) queued or running" in reason
    # a file that arrives meanwhile gets a batch of its own, without the file already in flight
    _drop(landing, "late.csv", invoice="500009")
    assert _files(tick.settled(t0 + 31)) == ["late.csv"]


def test_the_same_content_under_a_new_name_gets_a_run_of_its_own(instance, landing):
    """The loader records it as a duplicate of the first load (that is what the run is for)."""
    tick, t0, first, request = _first_run(instance, landing, "orig.csv", dg.DagsterRunStatus.SUCCESS)
    first.rename(landing / "copy_of_orig.csv")
    (again,) = tick.settled(t0 + 20).run_requests
    assert _config_files(again) == ["copy_of_orig.csv"] and again.run_key != request.run_key
    (drop,) = drops_of(again.tags)
    assert drop.split("@")[1] == drops_of(request.tags)[0].split("@")[1]


def test_the_same_file_dropped_again_after_a_successful_load_gets_the_next_run_key(instance, landing):
    tick, t0, path, request = _first_run(instance, landing, "b.csv", dg.DagsterRunStatus.SUCCESS)
    path.unlink()  # the run archived it; the same bytes are dropped again later
    time.sleep(0.05)
    _drop(landing, "b.csv")
    tick(t0 + 30)
    # Dagster would silently skip a second request with the same run key: the sensor asks for attempt 2.
    (again,) = tick(t0 + 30 + SETTLE + 1).run_requests
    assert _config_files(again) == ["b.csv"] and again.run_key != request.run_key


def test_a_failed_load_is_retried_under_a_new_run_key_after_a_backoff(instance, landing):
    tick, _t0, _, request = _first_run(instance, landing, "c.csv", dg.DagsterRunStatus.FAILURE)
    now = time.time()
    reason = _skip(tick(now + 5))
    assert "retrying after a backoff" in reason and "c.csv" in reason and "retry 2 in" in reason
    (retry,) = tick(now + 31).run_requests
    assert _config_files(retry) == ["c.csv"] and retry.run_key != request.run_key


def test_retries_stop_after_max_attempts_and_the_reason_says_what_to_do(instance, landing):
    tick = Ticker(instance, landing, max_attempts=3)
    t0 = time.time()
    _drop(landing, "d.csv")
    (request,) = tick.settled(t0).run_requests
    for _ in range(3):
        _record(instance, request, dg.DagsterRunStatus.FAILURE)
    reason = _skip(tick(time.time() + 3600))
    assert "stopped retrying" in reason and "3 failed runs in a row" in reason and "re-execute" in reason


def test_a_burst_of_files_is_one_run_per_tick_within_the_bounds(instance, landing):
    tick = Ticker(instance, landing, max_in_flight=2, max_batch_files=200)
    t0 = time.time()
    for index in range(300):
        path = _drop(landing, f"burst_{index:03d}.csv", invoice=str(600000 + index))
        os.utime(path, (1_280_000_000 + 300 - index, 1_280_000_000 + 300 - index))  # dropped newest first
    result = tick.settled(t0)
    (first,) = result.run_requests
    # drop order (oldest mtime first), at most 200 files, each with a tag of its own
    assert _config_files(first) == [f"burst_{index:03d}.csv" for index in range(299, 99, -1)]
    assert len([key for key in first.tags if key.startswith(FILE_TAG_PREFIX)]) == 200
    assert len(tick.cursor) < 100_000  # 300 files: about 150 bytes each
    _record(instance, first, dg.DagsterRunStatus.NOT_STARTED)
    (second,) = tick(t0 + 20).run_requests  # the files of the run in flight are not asked for again
    assert _config_files(second) == [f"burst_{index:03d}.csv" for index in range(99, -1, -1)]
    _record(instance, second, dg.DagsterRunStatus.NOT_STARTED)
    assert "2 load run(s) queued or running (at most 2)" in _skip(tick(t0 + 30))


def test_a_batch_is_bounded_by_bytes_and_a_big_file_goes_alone(instance, landing):
    tick = Ticker(instance, landing, max_batch_bytes=1_000)
    t0 = time.time()
    big = _drop(landing, "big.csv", rows=40, invoice="1")
    small = [_drop(landing, f"small_{i}.csv", rows=1, invoice=str(10 + i)) for i in range(3)]
    for age, path in enumerate([big, *small]):
        os.utime(path, (1_280_000_000 + age, 1_280_000_000 + age))
    assert big.stat().st_size > 1_000 and sum(p.stat().st_size for p in small) < 1_000
    result = tick.settled(t0)
    assert _files(result) == ["big.csv"]
    _record(instance, result.run_requests[0], dg.DagsterRunStatus.SUCCESS)
    big.unlink()  # loaded and archived
    assert _files(tick(t0 + 20)) == [p.name for p in small]


def test_a_failed_file_of_a_batch_is_retried_alone_after_its_backoff(instance, landing):
    """The batch run failed because one file's load raised; the files that loaded left the folder."""
    tick = Ticker(instance, landing)
    t0 = time.time()
    paths = [_drop(landing, f"part_{i}.csv", invoice=str(700 + i)) for i in range(3)]
    (request,) = tick.settled(t0).run_requests
    assert sorted(_config_files(request)) == [p.name for p in paths]
    _record(instance, request, dg.DagsterRunStatus.FAILURE)
    for path in paths[1:]:
        path.unlink()
    now = time.time()
    assert "part_0.csv: run" in _skip(tick(now + 5))
    (retry,) = tick(now + 31).run_requests
    assert _config_files(retry) == ["part_0.csv"]
    # the history of a file is the runs that carried it: one failure so far
    assert [name_of(drop) for drop in drops_of(retry.tags)] == ["part_0.csv"]


def test_the_same_tick_again_asks_for_the_same_run_key(instance, landing):
    """A daemon that restarts mid-tick evaluates the same state: Dagster submits the run once."""
    t0 = time.time()
    for i in range(5):
        _drop(landing, f"same_{i}.csv", invoice=str(800 + i))
    first, second = Ticker(instance, landing), Ticker(instance, landing)
    first(t0), second(t0)
    (a,) = first(t0 + SETTLE + 1).run_requests
    (b,) = second(t0 + SETTLE + 1).run_requests
    assert a.run_key == b.run_key and _config_files(a) == _config_files(b)


def test_file_tag_keys_are_valid_for_any_name():
    for name in ("a b.csv", "ü.csv", "x" * 200 + ".csv", "orders (1).csv.gz"):
        assert is_valid_tag_key(file_tag_key(name)), file_tag_key(name)
    assert file_tag_key("x" * 200 + "1.csv") != file_tag_key("x" * 200 + "2.csv")


def test_ready_files_wait_while_a_full_refresh_loads_the_folder(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    _drop(landing, "e.csv")
    tick(t0)
    create_run_for_test(instance, job_name="full_refresh_job", status=dg.DagsterRunStatus.STARTED)
    assert "wait for the full refresh in progress" in _skip(tick(t0 + SETTLE + 1))


def test_the_cursor_forgets_files_that_left_and_survives_garbage(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    path = _drop(landing, "f.csv")
    tick(t0)
    assert "f.csv" in json.loads(tick.cursor)["files"]
    path.unlink()
    assert "is empty" in _skip(tick(t0 + 10))
    assert json.loads(tick.cursor)["files"] == {}
    assert Cursor.loads("not json").files == {} and Cursor.loads('{"v": 0}').files == {}


def test_the_sensor_definition_reads_the_landing_folder_of_its_resource(instance, tmp_path):
    paths = retail_paths(tmp_path / "home2").ensure()
    context = dg.build_sensor_context(
        instance=instance, resources={"retail_paths": RetailPathsResource(home=str(paths.home))}
    )
    result = landing_file_sensor(context)
    assert "is empty" in result.skip_reason.skip_message
    assert landing_file_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert landing_file_sensor.job_name == "load_file_job"
    assert landing_file_sensor.minimum_interval_seconds == file_drop.SETTINGS.interval_seconds


# --- what is not a readable regular file (issue 13, defects 1, 6 and 14) ---------------------------------------


def test_links_fifos_and_directories_named_like_drops_are_requested_at_once_without_being_read(
    instance, landing, tmp_path
):
    """They are requested so that the load run gives each a ledger row and moves it to rejected/; the sensor
    reads none of them (a FIFO would block it, a link may point at /etc/passwd)."""
    tick = Ticker(instance, landing)
    t0 = time.time()
    (landing / "passwd.csv").symlink_to("/etc/passwd")
    (landing / "dangling.csv").symlink_to(tmp_path / "nothing")
    os.mkfifo(landing / "pipe.csv")
    (landing / "folder.csv").mkdir()
    (landing / "subfolder").mkdir()
    opened = []
    original = file_drop.file_digest
    file_drop.file_digest = lambda path: opened.append(path) or original(path)
    try:
        result = tick(t0)
    finally:
        file_drop.file_digest = original
    assert sorted(_files(result)) == ["dangling.csv", "folder.csv", "passwd.csv", "pipe.csv"]
    assert opened == []
    dg.validate_run_config(defs.resolve_job_def("load_file_job"), result.run_requests[0].run_config)


UNREADABLE_TICKS = """
import json, os, sys, time
from pathlib import Path
import dagster as dg
from retail_platform.defs.automation.file_drop import evaluate
landing = Path(sys.argv[1])
try:
    open(landing / "secret.csv").close()
    raise SystemExit("the read override is still there")
except PermissionError:
    pass
with dg.instance_for_test() as instance:
    cursor, t0, files = None, time.time(), []
    for now in (t0, t0 + 10):
        result = evaluate(dg.build_sensor_context(instance=instance, cursor=cursor), landing, now=now,
                          settle_seconds=5)
        cursor = result.cursor
        files += [f for r in result.run_requests or [] for f in r.run_config["ops"]["raw_transactions"]["config"]["files"]]
print(json.dumps(files))
"""


def test_an_unreadable_file_does_not_make_the_sensor_raise(landing):
    """As a user who may not read it (root without its read override): the tick requests it beside the good
    file, for the load run to reject it by name, instead of raising PermissionError on every tick."""
    import subprocess
    import sys

    _drop(landing, "good.csv")
    _drop(landing, "secret.csv", invoice="500009").chmod(0)
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--inh-caps=-dac_override,-dac_read_search"]
        prefix += ["--bounding-set=-dac_override,-dac_read_search"]
    done = subprocess.run(
        [*prefix, sys.executable, "-c", UNREADABLE_TICKS, str(landing)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(json.loads(done.stdout.strip().splitlines()[-1])) == ["good.csv", "secret.csv"]


def test_a_landing_folder_that_cannot_be_listed_is_a_skip_reason_not_an_error(landing):
    import subprocess
    import sys

    _drop(landing, "good.csv")
    landing.chmod(0)
    code = """
import sys
from pathlib import Path
import dagster as dg
from retail_platform.defs.automation.file_drop import evaluate
with dg.instance_for_test() as instance:
    print(evaluate(dg.build_sensor_context(instance=instance), Path(sys.argv[1])).skip_reason.skip_message)
"""
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--inh-caps=-dac_override,-dac_read_search"]
        prefix += ["--bounding-set=-dac_override,-dac_read_search"]
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-c", code, str(landing)], capture_output=True, text=True
        )
    finally:
        landing.chmod(0o755)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "cannot be listed: Permission denied" in done.stdout


def test_a_file_a_successful_run_could_not_move_is_not_requested_again_until_it_changes(instance, landing):
    """A read-only landing folder (issue 13, defect 5): the run loaded the file but could not move it. Asking
    for it again on every tick would start a run per tick that loads nothing; a new copy is requested."""
    tick = Ticker(instance, landing)
    t0 = time.time()
    path = _drop(landing, "kept.csv")
    result = tick.settled(t0)
    (request,) = result.run_requests
    time.sleep(0.05)  # the run ends after the file's last change (ctime has a fine but finite resolution)
    _record(instance, request, dg.DagsterRunStatus.SUCCESS)
    reason = _skip(tick(t0 + SETTLE + 2))
    assert "could not move them out of the landing folder" in reason and "kept.csv" in reason
    time.sleep(0.05)
    path.rename(landing / "kept.tmp")  # dropped again: a new ctime
    (landing / "kept.tmp").rename(path)
    tick(t0 + SETTLE + 3)
    assert _files(tick(t0 + 2 * SETTLE + 4)) == ["kept.csv"]
