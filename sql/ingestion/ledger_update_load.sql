-- The outcome of a file's load, on its ledger row: the digest (computed beside the load), the counts, the status.
UPDATE raw.file_loads
SET sha256 = :sha256,
    exports = :exports,
    lines_read = :lines_read,
    lines_loaded = :lines_loaded,
    lines_already_present = :lines_already_present,
    lines_rejected = :lines_rejected,
    status = :status,
    error = :error,
    months_touched = CAST(:months_touched AS date[]),
    finished_at = clock_timestamp()
WHERE load_id = :load_id;
