-- Data health: open alerts (failing checks, stale assets, failed runs), newest first.
SELECT alert_id, raised_at, kind, severity, asset_key, check_name, run_id, message, ui_url
FROM monitoring.open_alerts
ORDER BY raised_at DESC, alert_id DESC
