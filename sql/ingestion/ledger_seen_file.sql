-- The last ledger row of this very file (same name, device, inode, size and mtime): it was processed already
-- and is still in the landing folder because it could not be moved (issue 13, defect 5).
SELECT load_id, status, error, left_in_landing
FROM raw.file_loads
WHERE file_name = :file_name AND file_identity = :file_identity
ORDER BY load_id DESC
LIMIT 1;
