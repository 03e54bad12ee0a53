-- The ledger rows after a load id (the last one a downstream refresh covered), oldest first: the run that
-- wrote each and whether it inserted lines (retail_platform/ingestion/changes.py).
SELECT load_id, run_id, cardinality(months_touched) > 0 AS touched
FROM raw.file_loads
WHERE load_id > :load_id
ORDER BY load_id;
