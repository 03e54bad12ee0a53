-- Advance a source's high-water mark after a successful extract, and count what it read.
INSERT INTO ops.extract_watermarks AS w (
    source, source_url, source_identity, snapshot, high_water_mark, last_load_id,
    extracts, orders_extracted, lines_extracted, updated_at
)
VALUES (:source, :url, :identity, :snapshot, :hwm, :load_id, 1, :orders, :lines, now())
ON CONFLICT (source) DO UPDATE SET
    source_url = EXCLUDED.source_url,
    source_identity = EXCLUDED.source_identity,
    snapshot = EXCLUDED.snapshot,
    high_water_mark = EXCLUDED.high_water_mark,
    last_load_id = coalesce(EXCLUDED.last_load_id, w.last_load_id),
    extracts = w.extracts + 1,
    orders_extracted = w.orders_extracted + EXCLUDED.orders_extracted,
    lines_extracted = w.lines_extracted + EXCLUDED.lines_extracted,
    updated_at = now()
