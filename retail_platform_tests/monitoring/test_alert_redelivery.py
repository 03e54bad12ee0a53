"""A check's alert that failed to reach the webhook (HTTP 500) reaches it on the next run, once (issue 13,
defect 10: the next run sent 0 requests). Real Dagster runs of the check, a real HTTP receiver, real
PostgreSQL: the ledger is given a file whose loaded lines are missing, so raw_file_accounting fails."""

from pathlib import Path

import dagster as dg
from sqlalchemy import Engine, text

from retail_platform.definitions import defs
from retail_platform.defs.alerting import AlertingResource
from retail_platform.defs.resources import RetailPathsResource, ShopDatabaseResource, WarehouseResource
from retail_platform_tests.webhook_receiver import WebhookReceiver

KEY = dg.AssetCheckKey(dg.AssetKey(["raw", "file_loads"]), "raw_file_accounting")


def _run_check(url: str, home: Path, webhook_url: str) -> bool:
    """One run of the check, as the full refresh or the file-drop job runs it; whether it passed."""
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.checks(KEY),
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(url=url),
            "retail_paths": RetailPathsResource(home=str(home)),
            "alerting": AlertingResource(webhook_url=webhook_url),
            "shop": ShopDatabaseResource(),
        },
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation.passed


def _sql(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement))


def test_a_check_alert_missed_by_a_down_webhook_is_delivered_by_the_next_run(
    engine: Engine, database_url: str, tmp_path: Path
):
    _sql(
        engine,
        "INSERT INTO raw.file_loads (file_name, sha256, size_bytes, lines_read, lines_loaded, status, started_at)"
        " VALUES ('ghost.csv', 'x', 1, 5, 5, 'loaded', now())",  # five lines loaded, none in raw.transactions
    )
    with WebhookReceiver(status=500) as receiver:
        assert not _run_check(database_url, tmp_path, receiver.url)
        assert len(receiver.bodies) == 3  # three tries, all HTTP 500
        alert_id = receiver.bodies[0]["alert_id"]

        receiver.status = 200  # the webhook is back, and the retry's backoff has passed
        _sql(engine, "UPDATE ops.alerts SET next_delivery_at = now() WHERE next_delivery_at IS NOT NULL")
        assert not _run_check(database_url, tmp_path, receiver.url)  # the next run
        assert [body["alert_id"] for body in receiver.bodies[3:]] == [alert_id]
        assert receiver.bodies[3]["check_name"] == "raw_file_accounting"

        _sql(engine, "DELETE FROM raw.file_loads")  # a later run: the check passes, the alert is resolved
        assert _run_check(database_url, tmp_path, receiver.url)
        assert len(receiver.bodies) == 4  # nothing sent again
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT delivered_at, resolved_at, delivery_attempts FROM ops.alerts WHERE alert_id = :id"),
            {"id": alert_id},
        ).one()
    assert row.delivered_at is not None and row.resolved_at is not None and row.delivery_attempts == 2
