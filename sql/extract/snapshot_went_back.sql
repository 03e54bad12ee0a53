-- True when the source's transaction ids are behind the stored mark (a database restored from a backup).
SELECT pg_snapshot_xmax(CAST(:now AS pg_snapshot)) < pg_snapshot_xmax(CAST(:mark AS pg_snapshot))
