-- raw.rejected_lines: every rejected line has a reason and belongs to a file in the ledger, and each file's
-- rejected count covers the lines listed under it.
SELECT count(*) AS failed_rows, string_agg(DISTINCT coalesce(file_name, '?'), ', ') AS details
FROM (
    SELECT r.file_name FROM raw.rejected_lines AS r
    LEFT JOIN raw.file_loads AS f USING (load_id)
    WHERE f.load_id IS NULL OR coalesce(trim(r.reason), '') = ''
    UNION ALL
    SELECT f.file_name FROM raw.file_loads AS f
    JOIN (SELECT load_id, count(*) AS n FROM raw.rejected_lines GROUP BY load_id) AS c USING (load_id)
    WHERE c.n > f.lines_rejected
) AS bad;
