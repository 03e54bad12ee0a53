-- Data health (role retail_monitor): the ledger in one row.
SELECT count(*)::integer AS files,
       count(*) FILTER (WHERE status = 'loaded')::integer AS files_loaded,
       count(*) FILTER (WHERE status IN ('rejected', 'failed'))::integer AS files_rejected,
       coalesce(sum(lines_read), 0)::bigint AS lines_read,
       coalesce(sum(lines_loaded), 0)::bigint AS lines_loaded,
       coalesce(sum(lines_already_present), 0)::bigint AS lines_already_present,
       coalesce(sum(lines_rejected), 0)::bigint AS lines_rejected,
       max(finished_at) AS last_load_at
FROM monitoring.file_loads
