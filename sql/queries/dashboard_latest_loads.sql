-- Data health: the latest files seen, with their line accounting.
SELECT load_id, file_name, status, lines_read, lines_loaded, lines_already_present, lines_rejected, seconds,
       started_at, finished_at, error
FROM monitoring.file_loads
ORDER BY started_at DESC, load_id DESC
LIMIT 25
