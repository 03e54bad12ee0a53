"""Raising and resolving alerts: a row in ``ops.alerts`` and, when configured, a POST to a webhook.

Delivery never breaks the pipeline: the webhook gets a few tries with a timeout, and whatever happens is
written to the alert row (``delivered_at`` or ``delivery_error``). Webhook URLs often embed a token, so the URL
is never logged or stored; errors mention only the host.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from sqlalchemy import Engine, text

from retail_platform.warehouse.sql_files import read_sql

log = logging.getLogger(__name__)


@dataclass
class Alert:
    kind: str  # run_failure | check_failure | stale_asset
    severity: str  # WARN | ERROR
    message: str
    asset_key: str | None = None
    check_name: str | None = None
    run_id: str | None = None
    ui_url: str | None = None


def ui_link(
    base: str, *, run_id: str | None = None, asset_key: str | None = None, checks: bool = False
) -> str:
    """A link into the Dagster UI at ``base`` (``RETAIL_UI_URL``) for the run or asset."""
    base = base.rstrip("/")
    if run_id:
        return f"{base}/runs/{run_id}"
    if asset_key:
        path = "/".join(quote(part) for part in asset_key.split("/"))
        return f"{base}/assets/{path}" + ("?view=checks" if checks else "")
    return base


def _safe_target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def post_webhook(
    url: str, payload: dict, *, attempts: int = 3, timeout: float = 5.0, backoff: float = 0.5
) -> str | None:
    """POST ``payload`` as JSON; returns None on success, else a short error that names only the host."""
    body = json.dumps(payload, default=str).encode()
    error = None
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "retail-platform"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if 200 <= response.status < 300:
                    return None
                error = f"HTTP {response.status}"
        except urllib.error.HTTPError as failure:
            error = f"HTTP {failure.code}"
            if 400 <= failure.code < 500 and failure.code != 429:
                break  # a client error will not fix itself
        except (urllib.error.URLError, TimeoutError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            error = type(reason).__name__ if not isinstance(reason, str) else reason
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    message = f"webhook {_safe_target(url)} failed after {attempt} attempt(s): {error}"
    log.warning(message)
    return message


def raise_alert(engine: Engine, alert: Alert, *, webhook_url: str | None = None) -> int:
    """Record ``alert`` and deliver it.

    One open alert per condition: while a check (or an asset's freshness) keeps failing, later failures do
    not page again; a failed run always gets its own alert.
    """
    with engine.begin() as conn:
        existing = conn.execute(
            text(
                "SELECT alert_id FROM ops.alerts WHERE resolved_at IS NULL AND kind = :kind"
                " AND asset_key IS NOT DISTINCT FROM :asset_key AND check_name IS NOT DISTINCT FROM :check_name"
                " AND (kind <> 'run_failure' OR run_id IS NOT DISTINCT FROM :run_id)"
            ),
            asdict(alert),
        ).scalar()
        if existing is not None:
            return existing
        alert_id = conn.execute(
            text(
                "INSERT INTO ops.alerts (kind, severity, asset_key, check_name, run_id, message, ui_url)"
                " VALUES (:kind, :severity, :asset_key, :check_name, :run_id, :message, :ui_url) RETURNING alert_id"
            ),
            asdict(alert),
        ).scalar_one()
    if webhook_url:
        payload = {"alert_id": alert_id, "raised_at": datetime.now(UTC).isoformat(), **asdict(alert)}
        error = post_webhook(webhook_url, payload)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE ops.alerts SET delivered_at = CASE WHEN CAST(:error AS text) IS NULL THEN now() END,"
                    " delivery_error = CAST(:error AS text) WHERE alert_id = :alert_id"
                ),
                {"error": error, "alert_id": alert_id},
            )
    return alert_id


def resolve_alerts(
    engine: Engine, *, kind: str, asset_key: str | None = None, check_name: str | None = None
) -> int:
    """Close the open alerts of a condition that has cleared (a check passing again, an asset fresh again)."""
    with engine.begin() as conn:
        return conn.execute(
            text(
                "UPDATE ops.alerts SET resolved_at = now() WHERE resolved_at IS NULL AND kind = :kind"
                " AND asset_key IS NOT DISTINCT FROM :asset_key AND check_name IS NOT DISTINCT FROM :check_name"
            ),
            {"kind": kind, "asset_key": asset_key, "check_name": check_name},
        ).rowcount


def open_alerts(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(text(read_sql("queries/open_alerts.sql"))).mappings()
        return [dict(row) for row in rows]
