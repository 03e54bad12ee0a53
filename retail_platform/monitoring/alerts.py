"""Raising and resolving alerts: a row in ``ops.alerts`` and, when configured, a POST to a webhook.

Delivery never breaks the pipeline: the webhook gets a few tries with a timeout, and whatever happens is
written to the alert row (``delivered_at`` or ``delivery_error``). An alert that could not be delivered stays
pending (migration 016) and is retried, with a backoff that doubles, whenever an alert is next raised or
resolved (every run's checks, every sensor tick) or ``retail-platform run`` ends: it reaches the webhook once,
when the webhook is back. Webhook URLs often embed a token, so the URL is never logged or stored; errors mention
only the host, and ``user:password@`` in the URL becomes HTTP basic auth (the password shown as ``***``).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sqlalchemy import Engine, text

from retail_platform.warehouse.sql_files import read_sql

log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0  # first retry of an undelivered alert after this long; doubles each failed attempt
MAX_BACKOFF_SECONDS = 3600.0
MAX_DELIVERY_ATTEMPTS = 30  # about a day of hourly retries, then the alert is marked given up
_CLAIM_LEASE_SECONDS = 300  # a claimed alert is not claimed again meanwhile (its POST is in flight)
_BATCH = 50


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


def _host_port(parts) -> str:
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # IPv6 literal
    return host + (f":{parts.port}" if parts.port else "")


def _safe_target(url: str) -> str:
    """What a log line may say about the webhook: scheme, user, host and port; never its password, path or
    query (tokens live there)."""
    parts = urlsplit(url)
    user = f"{parts.username}:***@" if parts.password is not None else ""
    user = f"{parts.username}@" if parts.username and parts.password is None else user
    return f"{parts.scheme}://{user}{_host_port(parts)}"


def split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its ``user:password@`` part, and the HTTP basic ``Authorization`` header they make
    (urllib would otherwise resolve ``user:pass@host`` as a host name: gaierror)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, {}
    credentials = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    token = base64.b64encode(credentials.encode()).decode()
    return urlunsplit(parts._replace(netloc=_host_port(parts))), {"Authorization": f"Basic {token}"}


def post_webhook(
    url: str, payload: dict, *, attempts: int = 3, timeout: float = 5.0, backoff: float = 0.5
) -> str | None:
    """POST ``payload`` as JSON; returns None on success, else a short error that names only the host."""
    body = json.dumps(payload, default=str).encode()
    target, auth = split_credentials(url)
    headers = {"Content-Type": "application/json", "User-Agent": "retail-platform", **auth}
    error = None
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(target, data=body, method="POST", headers=headers)
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
            error = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
            error = error.replace(url, _safe_target(url)).replace(target, _safe_target(url))
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    message = f"webhook {_safe_target(url)} failed after {attempt} attempt(s): {error}"
    log.warning(message)
    return message


def raise_alert(
    engine: Engine, alert: Alert, *, webhook_url: str | None = None, retry_seconds: float = RETRY_SECONDS
) -> int:
    """Record ``alert`` and deliver it, with any earlier alert whose delivery is due again.

    One open alert per condition: while a check (or an asset's freshness) keeps failing, later failures do
    not page again; a failed run always gets its own alert. With a webhook, the new alert is pending until
    a POST succeeds.
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
        alert_id = existing
        if alert_id is None:
            alert_id = conn.execute(
                text(
                    "INSERT INTO ops.alerts (kind, severity, asset_key, check_name, run_id, message, ui_url,"
                    " next_delivery_at) VALUES (:kind, :severity, :asset_key, :check_name, :run_id, :message,"
                    " :ui_url, CASE WHEN :pending THEN now() END) RETURNING alert_id"
                ),
                {**asdict(alert), "pending": bool(webhook_url)},
            ).scalar_one()
    if webhook_url:
        deliver_pending(engine, webhook_url, retry_seconds=retry_seconds)
    return alert_id


def deliver_pending(
    engine: Engine, webhook_url: str | None, *, retry_seconds: float = RETRY_SECONDS, attempts: int = 3
) -> int:
    """POST every alert whose delivery is due (new, or failed and past its backoff), oldest first; the
    number delivered. The first failure ends the batch: the webhook is down, the rest wait for their next
    turn instead of each costing timeouts now. Never raises for the webhook's sake."""
    if not webhook_url:
        return 0
    with engine.begin() as conn:
        due = (
            conn.execute(
                text(read_sql("queries/alerts_claim_due.sql")),
                {"lease_seconds": _CLAIM_LEASE_SECONDS, "batch": _BATCH},
            )
            .mappings()
            .all()
        )
    delivered = 0
    for position, row in enumerate(sorted(due, key=lambda r: r["alert_id"])):
        payload = {
            "alert_id": row["alert_id"],
            "raised_at": row["raised_at"].astimezone(UTC).isoformat(),
            **{field: row[field] for field in Alert.__dataclass_fields__},
            "delivery_attempt": row["delivery_attempts"] + 1,
        }
        error = post_webhook(webhook_url, payload, attempts=attempts)
        _record_delivery(engine, row["alert_id"], error, retry_seconds)
        if error is not None:
            _release(engine, [r["alert_id"] for r in due[position + 1 :]])
            break
        delivered += 1
    return delivered


def _record_delivery(engine: Engine, alert_id: int, error: str | None, retry_seconds: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(read_sql("queries/alerts_record_delivery.sql")),
            {
                "alert_id": alert_id,
                "error": error,
                "retry_seconds": retry_seconds,
                "max_backoff_seconds": MAX_BACKOFF_SECONDS,
                "max_attempts": MAX_DELIVERY_ATTEMPTS,
            },
        )


def _release(engine: Engine, alert_ids: list[int]) -> None:
    """Claimed alerts not tried this time (the webhook just failed): due again at the next opportunity."""
    if alert_ids:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE ops.alerts SET next_delivery_at = now() WHERE alert_id = ANY(:ids)"),
                {"ids": alert_ids},
            )


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
