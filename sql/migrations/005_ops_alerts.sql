-- Alerts raised by failed runs, failed asset checks and stale assets, where an on-call person (and
-- `retail-platform health`) looks. An alert stays open until the condition clears (the check passes again,
-- the asset is fresh again) or someone sets resolved_at.
CREATE TABLE ops.alerts (
    alert_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    raised_at      timestamptz NOT NULL DEFAULT now(),
    kind           text        NOT NULL CHECK (kind IN ('run_failure', 'check_failure', 'stale_asset')),
    severity       text        NOT NULL CHECK (severity IN ('WARN', 'ERROR')),
    asset_key      text,
    check_name     text,
    run_id         text,
    message        text        NOT NULL,
    ui_url         text,
    delivered_at   timestamptz,
    delivery_error text,
    resolved_at    timestamptz
);
CREATE INDEX alerts_open ON ops.alerts (kind, asset_key, check_name) WHERE resolved_at IS NULL;
COMMENT ON TABLE ops.alerts IS 'Platform alerts: failed runs, failed checks, stale assets (open while resolved_at is null)';
