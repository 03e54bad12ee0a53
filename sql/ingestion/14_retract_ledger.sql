-- Retraction, step 4: the retracted load's ledger row says so, and the retraction gets a row of its own
-- (counts 0: it read no line) with the months it changed, which the downstream refresh sensor follows.
WITH retracted AS (
    UPDATE raw.file_loads
    SET status = 'retracted', retracted_at = clock_timestamp(),
        error = concat_ws('; ', error, format('retracted at %s: %s lines removed', clock_timestamp(), :lines_removed))
    WHERE load_id = :load_id
    RETURNING file_name, sha256, size_bytes, file_format
)
INSERT INTO raw.file_loads (
    file_name, sha256, size_bytes, file_format, status, error, retraction_of, months_touched, run_id, started_at
)
SELECT r.file_name, r.sha256, r.size_bytes, r.file_format, 'retraction', :note, :load_id,
       CAST(:months AS date[]), :run_id, clock_timestamp()
FROM retracted AS r
RETURNING load_id;
