"""The alerting resource: where alerts go besides ``ops.alerts`` (an optional webhook) and the UI's address
for the links inside them. The webhook URL is a secret: it comes from ``RETAIL_ALERT_WEBHOOK_URL`` through
``EnvVar`` and is never logged (a ``user:password@`` in it is sent as basic auth, shown as ``***``).

Every raise and every resolve also retries the alerts whose delivery failed and is due again, so the checks
of each run and each tick of the freshness sensor carry undelivered alerts to a webhook that came back."""

import dagster as dg
from sqlalchemy import Engine

from retail_platform.monitoring.alerts import (
    RETRY_SECONDS,
    Alert,
    deliver_pending,
    raise_alert,
    resolve_alerts,
    ui_link,
)


class AlertingResource(dg.ConfigurableResource):
    """Alert delivery settings (``RETAIL_ALERT_WEBHOOK_URL``; no webhook: alerts only land in ops.alerts)."""

    webhook_url: str | None = None
    ui_url: str = "http://127.0.0.1:3000"
    retry_seconds: float = RETRY_SECONDS  # first retry of an undelivered alert; doubles after each failure

    def link(self, *, run_id: str | None = None, asset_key: str | None = None, checks: bool = False) -> str:
        """A link into the Dagster UI (``RETAIL_UI_URL``) for the run or asset."""
        return ui_link(self.ui_url, run_id=run_id, asset_key=asset_key, checks=checks)

    def raise_alert(self, engine: Engine, alert: Alert) -> int:
        return raise_alert(engine, alert, webhook_url=self.webhook_url, retry_seconds=self.retry_seconds)

    def resolve(
        self, engine: Engine, *, kind: str, asset_key: str | None = None, check_name: str | None = None
    ) -> int:
        resolved = resolve_alerts(engine, kind=kind, asset_key=asset_key, check_name=check_name)
        self.deliver_pending(engine)
        return resolved

    def deliver_pending(self, engine: Engine) -> int:
        """Retry the undelivered alerts that are due (none without a webhook)."""
        return deliver_pending(engine, self.webhook_url, retry_seconds=self.retry_seconds)
