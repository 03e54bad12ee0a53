"""Alert recording and webhook delivery: retries, timeouts and secrets."""

import logging
import socket

from sqlalchemy import text

from retail_platform.monitoring.alerts import (
    Alert,
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
