"""The deployment, live: the instance from docker/dagster.yaml on PostgreSQL, the code server, webserver
and daemon as processes, runs launched through the webserver's GraphQL API (fixtures in conftest.py)."""

from __future__ import annotations

import subprocess

import psycopg
from dagster._core.events import DagsterEventType

from retail_platform_tests.deploy.conftest import SAMPLE_ROWS, Deployment
from retail_platform_tests.deploy.support import DAGSTER_YAML

RAW_LOAD = [["raw", "transactions"], ["raw", "file_loads"], ["raw", "rejected_lines"]]


def test_dagster_instance_migrate_on_postgres(deployment: Deployment):
    databases = deployment.databases
    assert databases.init_script_used, "the compose init script was not exercised (psql missing)"
    # The migrate service ran with the deployed dagster.yaml verbatim (only the environment differs).
    assert (deployment.migrate_home / "dagster.yaml").read_bytes() == DAGSTER_YAML.read_bytes()
    with psycopg.connect(databases.dagster_url) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        }
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        )
        assert owner.fetchone()[0] == databases.dagster_user
    assert {"runs", "event_logs", "alembic_version", "concurrency_limits", "jobs"} <= tables
    # the warehouse migrations ran as the warehouse's own (non-superuser) owner
    with psycopg.connect(databases.warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM meta.schema_migrations").fetchone()[0] >= 4
        assert (
            conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0] is False
        )

    # After an upgrade it is run again: idempotent.
    again = subprocess.run(
        ["dagster", "instance", "migrate"],
        env={**deployment.env, "DAGSTER_HOME": str(deployment.migrate_home)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_materialization_launched_through_graphql_succeeds(deployment: Deployment, full_refresh_run: dict):
    run_id = full_refresh_run["runId"]
    assert full_refresh_run["jobName"] == "full_refresh_job"

    # runs and event logs are in PostgreSQL
    with psycopg.connect(deployment.databases.dagster_url) as conn:
        status = conn.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,)).fetchone()
        assert status == ("SUCCESS",)
        events = dict(
            conn.execute(
                "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s GROUP BY 1", (run_id,)
            ).fetchall()
        )
        materialized = {
            row[0]
            for row in conn.execute(
                "SELECT asset_key FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                (run_id,),
            ).fetchall()
        }
    # queued by the webserver, then launched by the daemon (event types keep their legacy names)
    lifecycle = [
        DagsterEventType.RUN_ENQUEUED,
        DagsterEventType.RUN_STARTING,
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_SUCCESS,
    ]
    assert [events.get(event.value) for event in lifecycle] == [1, 1, 1, 1], sorted(events.items(), key=str)
    assert len(materialized) >= 16, materialized
    assert '["charts", "monthly_net_sales"]' in materialized

    # and the warehouse got the drop that was in the landing folder
    with psycopg.connect(deployment.databases.warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM raw.transactions").fetchone()[0] == SAMPLE_ROWS
        assert conn.execute("SELECT count(*) FROM marts.monthly_kpis").fetchone()[0] > 0
    assert (deployment.retail_home / "archive" / "deploy_drop.csv").exists()
    assert (deployment.retail_home / "charts" / "monthly_net_sales.png").exists()


def test_two_loads_into_the_warehouse_never_run_at_once(deployment: Deployment, full_refresh_run: dict):
    """Two runs of the raw load, launched together, are serialized by the pool (queue), not run side by side."""
    first = deployment.launch("__ASSET_JOB", RAW_LOAD)
    second = deployment.launch("__ASSET_JOB", RAW_LOAD)
    runs = [deployment.wait_for_run(run_id) for run_id in (first, second)]
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"], [
        deployment.run_failure_details(run["runId"]) for run in runs
    ]
    earlier, later = sorted(runs, key=lambda run: run["startTime"])
    assert later["startTime"] >= earlier["endTime"], f"the loads overlapped: {runs}"
    with psycopg.connect(deployment.databases.dagster_url) as conn:
        limits = dict(conn.execute('SELECT concurrency_key, "limit" FROM concurrency_limits').fetchall())
    assert limits.get("retail_warehouse_load") == 1, limits
