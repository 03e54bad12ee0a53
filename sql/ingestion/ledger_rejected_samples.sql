-- The first rejected lines of a load, for its result and the run's report.
SELECT source_export, source_row, column_name, reason, raw_text
FROM raw.rejected_lines
WHERE load_id = :load_id
ORDER BY source_export, source_row
LIMIT :limit;
