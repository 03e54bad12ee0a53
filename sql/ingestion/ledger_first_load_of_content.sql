-- The first load of identical content (the same sha256), which a duplicate points at.
SELECT load_id, file_name, lines_read, lines_rejected, exports
FROM raw.file_loads
WHERE sha256 = :sha256 AND status = 'loaded'
ORDER BY load_id
LIMIT 1;
