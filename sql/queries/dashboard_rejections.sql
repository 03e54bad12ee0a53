-- Data health: files rejected whole (status and error) and rejected lines per file and column.
SELECT l.load_id, l.file_name, l.status, r.column_name, r.lines, coalesce(r.example_reason, l.error) AS reason,
       r.first_row, l.started_at
FROM monitoring.file_loads AS l
LEFT JOIN monitoring.rejections AS r ON r.load_id = l.load_id
WHERE l.status IN ('rejected', 'failed') OR r.load_id IS NOT NULL
ORDER BY l.started_at DESC, l.load_id DESC, r.lines DESC NULLS LAST
LIMIT 100
