SELECT snapshot, source_identity, high_water_mark, extracts, orders_extracted, lines_extracted,
       last_load_id, updated_at
FROM ops.extract_watermarks
WHERE source = :source
