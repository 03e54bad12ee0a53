-- Every open alert with its delivery state, oldest first (the health report and the CLI's `health`).
SELECT alert_id, raised_at, kind, severity, asset_key, check_name, run_id, message, ui_url,
       delivered_at, delivery_error
FROM ops.alerts
WHERE resolved_at IS NULL
ORDER BY alert_id;
