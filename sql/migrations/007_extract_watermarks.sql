-- High-water marks of incremental extracts from source databases (the shop's OLTP database), one row per
-- source. Written after each extract's load has committed: a crash in between re-extracts the same rows,
-- which the load's line identity turns into "already present" (at-least-once extract, exactly-once load).
CREATE TABLE ops.extract_watermarks (
    source           text        PRIMARY KEY,      -- e.g. 'shop'
    source_url       text        NOT NULL,         -- the source database (password masked)
    source_identity  text        NOT NULL,         -- server, database oid and system id: a change resets the mark
    snapshot         text        NOT NULL,         -- pg_snapshot of the source at the last extract ('xmin:xmax:xip')
    high_water_mark  timestamptz,                  -- latest change time extracted so far (for people)
    last_load_id     bigint,                       -- the ledger row (raw.file_loads) of the last extract that loaded
    extracts         bigint      NOT NULL DEFAULT 0,
    orders_extracted bigint      NOT NULL DEFAULT 0,
    lines_extracted  bigint      NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.extract_watermarks IS 'Incremental extract high-water marks, one row per source database';

-- The lines that came from the shop's OLTP database (asset raw/shop_orders): raw.transactions rows whose load
-- was a shop extract (raw.file_loads.file_format = 'oltp').
CREATE VIEW raw.shop_orders AS
SELECT t.*
FROM raw.transactions AS t
JOIN raw.file_loads AS f ON f.load_id = t.load_id
WHERE f.file_format = 'oltp';
COMMENT ON VIEW raw.shop_orders IS 'Lines loaded from the shop''s OLTP database by the incremental extract';
