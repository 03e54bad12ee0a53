"""The alerting resource: where alerts go besides ``ops.alerts`` (an optional webhook) and the UI's address
for the links inside them. The webhook URL is a secret: it comes from ``RETAIL_ALERT_WEBHOOK_URL`` through
``EnvVar`` and is never logged."""

import dagster as dg
from sqlalchemy import Engine

from retail_platform.monitoring.alerts import Alert, raise_alert, resolve_alerts, ui_link


class AlertingResource(dg.ConfigurableResource):
    """Alert delivery settings (``RETAIL_ALERT_WEBHOOK_URL``; no webhook: alerts only land in ops.alerts)."""

    webhook_url: str | None = None
    ui_url: str = "http://127.0.0.1:3000"

    def link(self, *, run_id: str | None = None, asset_key: str | None = None, checks: bool = False) -> str:
        """A link into the Dagster UI (``RETAIL_UI_URL``) for the run or asset."""
        return ui_link(self.ui_url, run_id=run_id, asset_key=asset_key, checks=checks)

    def raise_alert(self, engine: Engine, alert: Alert) -> int:
        return raise_alert(engine, alert, webhook_url=self.webhook_url)

    def resolve(
        self, engine: Engine, *, kind: str, asset_key: str | None = None, check_name: str | None = None
    ) -> int:
        return resolve_alerts(engine, kind=kind, asset_key=asset_key, check_name=check_name)
