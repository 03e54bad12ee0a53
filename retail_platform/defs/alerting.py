"""The alerting resource: where alerts go besides ``ops.alerts`` (an optional webhook) and the UI's address
for the links inside them. The webhook URL is a secret: it comes from ``RETAIL_ALERT_WEBHOOK_URL`` through
``EnvVar`` and is never logged."""

import dagster as dg
from sqlalchemy import Engine

from retail_platform.monitoring.alerts import Alert, raise_alert, resolve_alerts


class AlertingResource(dg.ConfigurableResource):
    """Alert delivery settings (``RETAIL_ALERT_WEBHOOK_URL``; no webhook: alerts only land in ops.alerts)."""

    webhook_url: str | None = None

    def raise_alert(self, engine: Engine, alert: Alert) -> int:
        return raise_alert(engine, alert, webhook_url=self.webhook_url or "")

    def resolve(
        self, engine: Engine, *, kind: str, asset_key: str | None = None, check_name: str | None = None
    ) -> int:
        return resolve_alerts(engine, kind=kind, asset_key=asset_key, check_name=check_name)
