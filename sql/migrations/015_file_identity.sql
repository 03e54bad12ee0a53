-- Which file on disk a ledger row was written for (issue 13, defects 5 and 7): device, inode, size and
-- modification time as "dev:ino:size:mtime_ns", from lstat before the load. A file that could not be moved out
-- of the landing folder after its load (a read-only folder, a kill -9 between the commit and the move) is still
-- there with the same identity on the next run, which then recognises it instead of writing another
-- `duplicate` row and another archive copy. left_in_landing says why a processed file could not be moved.
ALTER TABLE raw.file_loads ADD COLUMN file_identity text;
ALTER TABLE raw.file_loads ADD COLUMN left_in_landing text;
COMMENT ON COLUMN raw.file_loads.file_identity IS
    'The landing file''s device:inode:size:mtime_ns when it was loaded (NULL for shop extracts)';
COMMENT ON COLUMN raw.file_loads.left_in_landing IS
    'Why the file could not be moved to archive/ or rejected/ after its load (NULL: it was moved)';
CREATE INDEX file_loads_file_identity ON raw.file_loads (file_name, file_identity)
    WHERE file_identity IS NOT NULL;
