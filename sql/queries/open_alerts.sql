-- Every open alert with its delivery state, oldest first (the health report and the CLI's `health`):
-- delivered, pending (its last error, attempts and next try; migration 016) or given up.
SELECT alert_id, raised_at, kind, severity, asset_key, check_name, run_id, message, ui_url,
       delivered_at, delivery_error, delivery_attempts, next_delivery_at, delivery_given_up_at
FROM ops.alerts
WHERE resolved_at IS NULL
ORDER BY alert_id;
