-- Whether a file of this size was loaded before: only then can a new file be a duplicate, so only then is its
-- sha256 waited for before the load starts.
SELECT EXISTS (SELECT 1 FROM raw.file_loads WHERE size_bytes = :size_bytes AND status = 'loaded');
