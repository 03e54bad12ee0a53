-- Undelivered alerts are kept and retried (issue 13, defect 10): an alert whose webhook POST failed (HTTP 500,
-- timeout, refused) stays pending, with the number of delivery attempts made and the earliest time of the next
-- one, which doubles after every failed try (backoff). Every later run, check and sensor tick that raises or
-- resolves an alert first retries the pending ones that are due, so each alert is delivered once, when the
-- webhook recovers. delivery_given_up_at marks an alert that stopped being retried (too many attempts, or a
-- client error that will not fix itself).
ALTER TABLE ops.alerts
    ADD COLUMN delivery_attempts    integer NOT NULL DEFAULT 0,
    ADD COLUMN next_delivery_at     timestamptz,
    ADD COLUMN delivery_given_up_at timestamptz;
-- Alerts that failed before this migration are pending too: retried at the next opportunity.
UPDATE ops.alerts SET next_delivery_at = now(), delivery_attempts = 1
WHERE delivered_at IS NULL AND delivery_error IS NOT NULL;
CREATE INDEX alerts_pending_delivery ON ops.alerts (next_delivery_at)
    WHERE delivered_at IS NULL AND next_delivery_at IS NOT NULL;
COMMENT ON COLUMN ops.alerts.next_delivery_at IS
    'When the next webhook delivery attempt is due (null: delivered, never to be delivered, or given up)';
