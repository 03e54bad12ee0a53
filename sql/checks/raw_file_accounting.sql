-- raw.file_loads: every file's lines are accounted for (read = loaded + already present + rejected), and
-- the loaded count matches the rows that carry the file's load id (none for a retracted load, whose row keeps
-- the counts of its load).
SELECT count(*) AS failed_rows, string_agg(file_name || ' (load ' || load_id || ')', ', ') AS details
FROM (
    SELECT f.load_id, f.file_name
    FROM raw.file_loads AS f
    LEFT JOIN (SELECT load_id, count(*) AS n FROM raw.transactions GROUP BY load_id) AS t USING (load_id)
    WHERE f.lines_read <> f.lines_loaded + f.lines_already_present + f.lines_rejected
       OR CASE WHEN f.status = 'retracted' THEN 0 ELSE f.lines_loaded END <> coalesce(t.n, 0)
    ORDER BY f.load_id
    LIMIT 20
) AS bad;
