-- The ledger rows of one run, for the summary `retail-platform run` prints.
SELECT file_name, status, lines_read, lines_loaded, lines_already_present, lines_rejected, error
FROM raw.file_loads
WHERE run_id = :run_id
ORDER BY load_id
