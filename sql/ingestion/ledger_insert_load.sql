-- A file's row in the load ledger (SPEC §5), written when its load starts and completed by
-- ledger_update_load.sql in the same transaction; rejected and duplicate files are written complete at once.
INSERT INTO raw.file_loads (
    file_name, sha256, size_bytes, file_format, exports, lines_read, lines_loaded, lines_already_present,
    lines_rejected, status, error, duplicate_of, run_id, started_at, file_identity
)
VALUES (
    :file_name, :sha256, :size_bytes, :file_format, :exports, :lines_read, :lines_loaded, :lines_already_present,
    :lines_rejected, :status, :error, :duplicate_of, :run_id, :started_at, :file_identity
)
RETURNING load_id;
