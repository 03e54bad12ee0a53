"""Alert recording and webhook delivery: retries, timeouts and secrets."""

import base64
import logging
import socket

from sqlalchemy import text

from retail_platform.monitoring.alerts import (
    Alert,
    deliver_pending,
    open_alerts,
    post_webhook,
    raise_alert,
    resolve_alerts,
    ui_link,
)
from retail_platform_tests.webhook_receiver import WebhookReceiver


def _alert(**overrides) -> Alert:
    values = {
        "kind": "check_failure",
        "severity": "ERROR",
        "message": "boom",
        "asset_key": "clean/order_lines",
        "check_name": "clean_amount_consistent",
    }
    return Alert(**{**values, **overrides})


def test_alert_is_recorded_and_delivered(engine):
    with WebhookReceiver() as receiver:
        alert_id = raise_alert(engine, _alert(), webhook_url=receiver.url)
    assert receiver.bodies[0]["alert_id"] == alert_id
    assert receiver.bodies[0]["check_name"] == "clean_amount_consistent"
    with engine.connect() as conn:
        row = conn.execute(text("SELECT delivered_at, delivery_error FROM ops.alerts")).one()
    assert row.delivered_at is not None and row.delivery_error is None


def test_broken_webhook_is_retried_recorded_and_never_raises(engine, caplog):
    with WebhookReceiver(status=503) as receiver, caplog.at_level(logging.WARNING):
        raise_alert(engine, _alert(), webhook_url=receiver.url)
    assert len(receiver.bodies) == 3  # three attempts
    with engine.connect() as conn:
        row = conn.execute(text("SELECT delivered_at, delivery_error FROM ops.alerts")).one()
    assert row.delivered_at is None and "HTTP 503" in row.delivery_error
    assert "s3cret-token" not in row.delivery_error and "s3cret-token" not in caplog.text


def test_unreachable_webhook_times_out_quietly(engine):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = post_webhook(
        f"http://user:pw@127.0.0.1:{port}/x?token=abc", {"a": 1}, attempts=2, timeout=1, backoff=0
    )
    assert error is not None and "pw" not in error and "abc" not in error
    alert_id = raise_alert(engine, _alert(), webhook_url=f"http://127.0.0.1:{port}/x")
    assert alert_id > 0


def test_one_open_alert_per_condition_and_resolution(engine):
    first = raise_alert(engine, _alert(message="first"), webhook_url="")
    second = raise_alert(engine, _alert(message="second"), webhook_url="")
    assert first == second
    other = raise_alert(engine, _alert(check_name="clean_keys_not_null"), webhook_url="")
    assert other != first
    assert (
        resolve_alerts(
            engine, kind="check_failure", asset_key="clean/order_lines", check_name="clean_amount_consistent"
        )
        == 1
    )
    assert [a["alert_id"] for a in open_alerts(engine)] == [other]
    # run failures are never merged
    run_a = raise_alert(
        engine, _alert(kind="run_failure", asset_key=None, check_name=None, run_id="a"), webhook_url=""
    )
    run_b = raise_alert(
        engine, _alert(kind="run_failure", asset_key=None, check_name=None, run_id="b"), webhook_url=""
    )
    assert run_a != run_b


def test_ui_links():
    base = "https://dagster.example.com/"
    assert ui_link(base, run_id="abc") == "https://dagster.example.com/runs/abc"
    assert ui_link(base, asset_key="marts/rfm_scores", checks=True) == (
        "https://dagster.example.com/assets/marts/rfm_scores?view=checks"
    )


def _delivery(engine, alert_id: int):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT delivered_at, delivery_error, delivery_attempts, next_delivery_at,"
                " delivery_given_up_at, next_delivery_at - now() AS wait FROM ops.alerts WHERE alert_id = :id"
            ),
            {"id": alert_id},
        ).one()


def test_an_undelivered_alert_is_delivered_once_when_the_webhook_recovers(engine):
    """Defect 10: HTTP 500, then the webhook recovers: the next run (its check raising the same alert again)
    delivers the kept alert, exactly once."""
    with WebhookReceiver(status=500) as receiver:
        alert_id = raise_alert(engine, _alert(), webhook_url=receiver.url, retry_seconds=0)
        assert len(receiver.bodies) == 3
        failed = _delivery(engine, alert_id)
        assert failed.delivered_at is None and "HTTP 500" in failed.delivery_error
        assert failed.delivery_attempts == 1 and failed.next_delivery_at is not None

        receiver.status = 200  # the webhook recovers; the next run's check fails the same way again
        assert (
            raise_alert(engine, _alert(message="again"), webhook_url=receiver.url, retry_seconds=0)
            == alert_id
        )
        assert len(receiver.bodies) == 4
        assert receiver.bodies[3]["alert_id"] == alert_id and receiver.bodies[3]["delivery_attempt"] == 2
        assert receiver.bodies[3]["message"] == "boom"  # the alert as raised
        delivered = _delivery(engine, alert_id)
        assert delivered.delivered_at is not None and delivered.next_delivery_at is None

        # and never again: later raises, resolves and retries send nothing more for it
        raise_alert(engine, _alert(), webhook_url=receiver.url, retry_seconds=0)
        assert deliver_pending(engine, receiver.url, retry_seconds=0) == 0
        assert len(receiver.bodies) == 4


def test_retries_back_off_and_a_recovered_webhook_gets_what_is_due(engine):
    with WebhookReceiver(status=503) as receiver:
        alert_id = raise_alert(engine, _alert(), webhook_url=receiver.url, retry_seconds=600)
        first = _delivery(engine, alert_id)
        assert 590 <= first.wait.total_seconds() <= 610  # first retry after retry_seconds
        receiver.status = 200
        assert deliver_pending(engine, receiver.url, retry_seconds=600) == 0  # not due yet: no request
        assert len(receiver.bodies) == 3

        receiver.status = 503
        with engine.begin() as conn:  # the clock passes the backoff
            conn.execute(text("UPDATE ops.alerts SET next_delivery_at = now() - interval '1 s'"))
        assert deliver_pending(engine, receiver.url, retry_seconds=600) == 0
        second = _delivery(engine, alert_id)
        assert second.delivery_attempts == 2 and 1190 <= second.wait.total_seconds() <= 1210  # doubled

        receiver.status = 200
        with engine.begin() as conn:
            conn.execute(text("UPDATE ops.alerts SET next_delivery_at = now() - interval '1 s'"))
        assert deliver_pending(engine, receiver.url, retry_seconds=600) == 1
    assert [body["alert_id"] for body in receiver.bodies].count(alert_id) == 3 + 3 + 1


def test_a_down_webhook_stops_the_batch_and_loses_nothing(engine):
    with WebhookReceiver(status=500) as receiver:
        ids = [
            raise_alert(engine, _alert(check_name=f"check_{n}"), webhook_url=receiver.url, retry_seconds=0)
            for n in range(3)
        ]
        # each raise tried the due alerts until the first failure: one alert per raise, three tries each
        assert len(receiver.bodies) == 9
        receiver.status = 200
        assert deliver_pending(engine, receiver.url, retry_seconds=0) == 3
        delivered = [body["alert_id"] for body in receiver.bodies[9:]]
    assert delivered == ids
    assert all(_delivery(engine, alert_id).delivered_at is not None for alert_id in ids)


def test_credentials_in_the_webhook_url_are_basic_auth_and_masked(engine, caplog):
    """Defect 10: ``user:pass@`` in the URL failed with gaierror; now it is HTTP basic auth, and the
    password shows as *** in logs and in ops.alerts."""
    with WebhookReceiver() as receiver:
        url = receiver.url.replace("http://", "http://ops%40shop:p%40ss%20w0rd@")
        alert_id = raise_alert(engine, _alert(), webhook_url=url)
        assert (
            receiver.headers[0]["Authorization"]
            == "Basic " + base64.b64encode(b"ops@shop:p@ss w0rd").decode()
        )
        assert _delivery(engine, alert_id).delivered_at is not None

        receiver.status = 500
        with caplog.at_level(logging.WARNING):
            failed = raise_alert(engine, _alert(check_name="other"), webhook_url=url)
    error = _delivery(engine, failed).delivery_error
    for shown in (error, caplog.text):
        assert "ops%40shop:***@127.0.0.1" in shown
        assert "p%40ss" not in shown and "w0rd" not in shown and "s3cret-token" not in shown


def test_health_shows_a_pending_delivery_and_resolving_delivers_what_is_due(engine):
    from retail_platform.defs.alerting import AlertingResource
    from retail_platform.monitoring.health import HealthReport, format_report

    with WebhookReceiver(status=500) as receiver:
        alerting = AlertingResource(webhook_url=receiver.url, retry_seconds=0)
        alert_id = alerting.raise_alert(engine, _alert())
        report = format_report(
            HealthReport(assets=[], open_alerts=open_alerts(engine), failures=[], warnings=[])
        )
        assert f"#{alert_id} ERROR check_failure: boom" in report
        assert "not delivered after 1 attempt(s): webhook http://127.0.0.1" in report and "HTTP 500" in report
        assert "s3cret-token" not in report

        receiver.status = 200  # a freshness-sensor tick resolving some other condition carries it
        alerting.resolve(engine, kind="stale_asset", asset_key="marts/monthly_kpis")
        assert [body["alert_id"] for body in receiver.bodies[3:]] == [alert_id]
    assert "not delivered" not in format_report(
        HealthReport(assets=[], open_alerts=open_alerts(engine), failures=[], warnings=[])
    )
