"""load_file_job: the raw load of the files named in its config (a batch per sensor tick), each file in its own
transaction, reporting only the tables it changed."""

from __future__ import annotations

import os
import time

import dagster as dg
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from retail_platform.definitions import defs
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.ingestion import landing
from retail_platform_tests.helpers import line, write_csv


def _run(
    database_url, paths, job="load_file_job", raise_on_error=True, **config
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"raw_transactions": {"config": config}}},
        resources={
            "warehouse": WarehouseResource(url=database_url),
            "retail_paths": RetailPathsResource(home=str(paths.home)),
        },
        raise_on_error=raise_on_error,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def test_a_run_loads_only_its_file_and_reports_what_changed(database_url, engine, paths):
    write_csv(paths.landing / "monday.csv", [line(invoice="1"), line(invoice="2")])
    write_csv(paths.landing / "tuesday.csv", [line(invoice="3")])
    result = _run(database_url, paths, files=["monday.csv"])
    assert _materialized(result) == {"raw/transactions", "raw/file_loads"}  # no rejected line: not reported
    assert (paths.archive / "monday.csv").exists() and (paths.landing / "tuesday.csv").exists()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM raw.transactions")).scalar_one() == 2

    # The same content under another name: a ledger row that says why, no line, no update of raw/transactions
    # (so no downstream refresh for nothing).
    (paths.archive / "monday.csv").rename(paths.landing / "monday_again.csv")
    duplicate = _run(database_url, paths, files=["monday_again.csv"])
    assert _materialized(duplicate) == {"raw/file_loads"}
    with engine.connect() as conn:
        status, error = conn.execute(
            text("SELECT status, error FROM raw.file_loads WHERE file_name = 'monday_again.csv'")
        ).one()
    assert status == "duplicate" and "monday.csv" in error


def test_a_file_already_filed_away_is_a_no_op(database_url, engine, paths):
    result = _run(database_url, paths, files=["gone.csv"])
    assert result.success and _materialized(result) == set()
    failed = _run(database_url, paths, raise_on_error=False, files=["../etc/passwd"])
    assert not failed.success


def test_the_full_refresh_can_leave_files_that_are_still_being_written(database_url, engine, paths):
    old = write_csv(paths.landing / "old.csv", [line(invoice="10")])
    write_csv(paths.landing / "fresh.csv", [line(invoice="11")])
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    result = _run(database_url, paths, job="full_refresh_job", min_file_age_seconds=300)
    assert result.success
    assert (paths.archive / "old.csv").exists() and (paths.landing / "fresh.csv").exists()


def test_a_batch_loads_each_file_on_its_own_and_one_failure_does_not_stop_the_others(
    database_url, engine, paths, monkeypatch
):
    """A warehouse error in one file's load (simulated for that file only) rolls back that file alone; the
    others load and are reported, the run ends failed, the failed file stays in the landing folder."""
    write_csv(paths.landing / "a.csv", [line(invoice="21"), line(invoice="22")])
    write_csv(paths.landing / "b.csv", [line(invoice="23")])
    write_csv(paths.landing / "c.csv", [line(invoice="24")])
    real_load_file = landing.load_file

    def flaky(engine, path, **kwargs):
        if path.name == "b.csv":
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real_load_file(engine, path, **kwargs)

    monkeypatch.setattr(landing, "load_file", flaky)
    result = _run(database_url, paths, raise_on_error=False, files=["a.csv", "b.csv", "c.csv"])
    assert not result.success
    assert _materialized(result) == {"raw/transactions", "raw/file_loads"}
    failure = next(event for event in result.all_events if event.is_step_failure)
    assert "b.csv" in failure.step_failure_data.error.message
    assert (paths.archive / "a.csv").exists() and (paths.archive / "c.csv").exists()
    assert (paths.landing / "b.csv").exists()
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT file_name FROM raw.file_loads ORDER BY load_id")).scalars().all()
        assert ledger == ["a.csv", "c.csv"]
        assert conn.execute(text("SELECT count(*) FROM raw.transactions")).scalar_one() == 3

    monkeypatch.setattr(landing, "load_file", real_load_file)
    retry = _run(database_url, paths, files=["b.csv"])
    assert retry.success and (paths.archive / "b.csv").exists()
