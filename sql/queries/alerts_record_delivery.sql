-- The outcome of one delivery attempt of an alert: delivered, or the error and the next attempt after a
-- backoff that doubles with every failed attempt (capped), or given up after the last allowed attempt.
UPDATE ops.alerts
SET delivery_attempts = delivery_attempts + 1,
    delivered_at = CASE WHEN CAST(:error AS text) IS NULL THEN now() END,
    delivery_error = CAST(:error AS text),
    next_delivery_at = CASE
        WHEN CAST(:error AS text) IS NULL OR delivery_attempts + 1 >= :max_attempts THEN NULL
        ELSE now() + make_interval(secs => least(:retry_seconds * power(2, delivery_attempts), :max_backoff_seconds))
    END,
    delivery_given_up_at = CASE
        WHEN CAST(:error AS text) IS NOT NULL AND delivery_attempts + 1 >= :max_attempts THEN now()
    END
WHERE alert_id = :alert_id;
