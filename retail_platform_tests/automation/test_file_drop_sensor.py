"""The file-drop sensor, tick by tick with ``build_sensor_context`` and a controlled clock: readiness (settling
across ticks, temporary names and renames), one run per file, retries under new run keys, the cursor, and the
bounds on a burst of files. No warehouse needed: the sensor only reads the folder and the run history."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from retail_platform.definitions import defs
from retail_platform.defs.automation import file_drop
from retail_platform.defs.automation.file_drop import (
    TAG_DROP,
    TAG_FILE,
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


def _drop(landing: Path, name: str, rows: int = 3, invoice: str = "500000") -> Path:
    return write_csv(landing / name, [line(invoice=invoice, quantity=i + 1) for i in range(rows)])


def _files(result: dg.SensorResult) -> list[str]:
    return [request.tags[TAG_FILE] for request in result.run_requests or []]


def _skip(result: dg.SensorResult) -> str:
    assert not result.run_requests, _files(result)
    return result.skip_reason.skip_message


def _drop_and_settle(tick: Ticker, name: str, t0: float) -> dg.RunRequest:
    """The one run request for ``name``, dropped just before ``t0``: seen at ``t0``, ready a settle window
    later."""
    _drop(tick.landing, name)
    tick(t0)
    (request,) = tick(t0 + SETTLE + 1).run_requests
    return request


def _record_load_run(
    instance: dg.DagsterInstance, request: dg.RunRequest, status: dg.DagsterRunStatus
) -> None:
    """A run of the load job for ``request`` in ``status``, as the daemon would have launched it."""
    create_run_for_test(instance, job_name="load_file_job", status=status, tags=dict(request.tags))


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
    assert request.run_key == f"day1.csv@{sha[:16]}#1"
    assert request.tags[TAG_DROP] == drop_id("day1.csv", sha) and request.tags["retail/sha256"] == sha
    assert request.run_config["ops"]["raw_transactions"]["config"]["files"] == ["day1.csv"]
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


def test_files_with_old_modification_times_are_seen_and_loaded_oldest_first(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    _drop(landing, "new.csv", invoice="1")
    tick(t0)
    assert _files(tick(t0 + SETTLE + 1)) == ["new.csv"]
    # Copied in later with an mtime from 2010 (cp -p, rsync -t): no mtime high-water mark hides it.
    old = _drop(landing, "from_2010.csv", invoice="2")
    older = _drop(landing, "from_2009.csv", invoice="3")
    os.utime(old, (1_280_000_000, 1_280_000_000))
    os.utime(older, (1_260_000_000, 1_260_000_000))
    tick(t0 + 20)
    result = tick(t0 + 20 + SETTLE + 1)
    assert _files(result)[:2] == ["from_2009.csv", "from_2010.csv"]


def test_one_run_per_file_and_none_while_its_run_is_in_flight(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    request = _drop_and_settle(tick, "a.csv", t0)
    _record_load_run(instance, request, dg.DagsterRunStatus.NOT_STARTED)
    reason = _skip(tick(t0 + 30))
    assert "1 load run(s) queued or running" in reason


def test_the_same_content_under_a_new_name_gets_a_run_of_its_own(instance, landing):
    """The loader records it as a duplicate of the first load (that is what the run is for)."""
    tick = Ticker(instance, landing)
    t0 = time.time()
    request = _drop_and_settle(tick, "orig.csv", t0)
    _record_load_run(instance, request, dg.DagsterRunStatus.SUCCESS)
    (landing / "orig.csv").rename(landing / "copy_of_orig.csv")
    tick(t0 + 20)
    (again,) = tick(t0 + 20 + SETTLE + 1).run_requests
    assert again.tags[TAG_FILE] == "copy_of_orig.csv" and again.run_key.endswith("#1")
    assert again.tags["retail/sha256"] == request.tags["retail/sha256"]


def test_the_same_file_dropped_again_after_a_successful_load_gets_the_next_run_key(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    request = _drop_and_settle(tick, "b.csv", t0)
    _record_load_run(instance, request, dg.DagsterRunStatus.SUCCESS)
    # Dagster would silently skip a second request with the same run key: the sensor asks for attempt 2.
    (again,) = tick(t0 + 30).run_requests
    assert again.run_key == request.run_key.replace("#1", "#2")


def test_a_failed_load_is_retried_under_a_new_run_key_after_a_backoff(instance, landing):
    tick = Ticker(instance, landing)
    t0 = time.time()
    request = _drop_and_settle(tick, "c.csv", t0)
    _record_load_run(instance, request, dg.DagsterRunStatus.FAILURE)
    now = time.time()
    reason = _skip(tick(now + 5))
    assert "retrying after a backoff" in reason and "c.csv" in reason and "retry 2 in" in reason
    (retry,) = tick(now + 31).run_requests
    assert retry.run_key.endswith("#2") and retry.tags["retail/attempt"] == "2"


def test_retries_stop_after_max_attempts_and_the_reason_says_what_to_do(instance, landing):
    tick = Ticker(instance, landing, max_attempts=3)
    t0 = time.time()
    request = _drop_and_settle(tick, "d.csv", t0)
    for _ in range(3):
        _record_load_run(instance, request, dg.DagsterRunStatus.FAILURE)
    reason = _skip(tick(time.time() + 3600))
    assert "stopped retrying" in reason and "3 failed runs in a row" in reason and "re-execute" in reason


def test_a_burst_of_files_is_drained_a_few_runs_at_a_time(instance, landing):
    tick = Ticker(instance, landing, max_in_flight=4, max_runs_per_tick=4)
    t0 = time.time()
    for index in range(300):
        _drop(landing, f"burst_{index:03d}.csv", invoice=str(600000 + index))
    started = time.monotonic()
    tick(t0)
    result = tick(t0 + SETTLE + 1)
    assert time.monotonic() - started < 10
    assert len(result.run_requests) == 4
    assert len(tick.cursor) < 100_000  # 300 files: about 150 bytes each
    for request in result.run_requests:
        _record_load_run(instance, request, dg.DagsterRunStatus.NOT_STARTED)
    reason = _skip(tick(t0 + 20))
    assert "4 load run(s) queued or running (at most 4)" in reason
    assert "296 more ready file(s) wait their turn" in reason


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
