-- The loads a retraction may take out, by file name (the latest first) or by load id: only loads whose lines
-- are in the warehouse (status loaded). Locked, so that two retractions never race.
SELECT load_id, file_name, sha256, size_bytes, file_format, status, lines_loaded
FROM raw.file_loads
WHERE (load_id = CAST(:load_id AS bigint) OR (CAST(:load_id AS bigint) IS NULL AND file_name = :file_name))
ORDER BY load_id DESC
FOR UPDATE;
