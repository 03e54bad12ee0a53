-- Claim the alerts whose webhook delivery is due (issue 13, defect 10), oldest first: their next attempt is
-- moved a lease ahead in the same statement, so two processes retrying at once (a run's checks, a sensor
-- tick) never POST the same alert twice; SKIP LOCKED lets the other one move on to other alerts.
UPDATE ops.alerts AS a
SET next_delivery_at = now() + make_interval(secs => :lease_seconds)
FROM (
    SELECT alert_id FROM ops.alerts
    WHERE delivered_at IS NULL AND next_delivery_at IS NOT NULL AND next_delivery_at <= now()
    ORDER BY alert_id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
) AS due
WHERE a.alert_id = due.alert_id
RETURNING a.alert_id, a.raised_at, a.kind, a.severity, a.message, a.asset_key, a.check_name, a.run_id,
          a.ui_url, a.delivery_attempts;
