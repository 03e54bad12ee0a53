-- raw.file_loads: files whose share of rejected lines is above the threshold.
SELECT count(*) AS failed_rows,
       string_agg(format('%s: %s of %s lines rejected', file_name, lines_rejected, lines_read), '; ') AS details
FROM raw.file_loads
WHERE lines_read > 0 AND lines_rejected::numeric / lines_read > CAST(:threshold AS numeric);
