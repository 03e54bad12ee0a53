-- The months each load touched (issue 12): an incremental refresh after loads rebuilds only the months whose
-- lines changed, so the ledger says which those are. months_touched holds the first day of every calendar
-- month of invoice_date among the lines the load inserted (not those already present, not rejected ones):
-- empty for duplicates, rejected files and loads that found every line present. The loader fills it from the
-- blocks it types (the distinct months of a block's dates) and from the set-based insert's RETURNING, so it
-- costs no scan of the loaded lines.
ALTER TABLE raw.file_loads ADD COLUMN months_touched date[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN raw.file_loads.months_touched IS
    'First days of the calendar months of invoice_date of the lines this load inserted (issue 12)';

-- Loads from before this migration: their months, from their lines (one pass over the table, once).
UPDATE raw.file_loads AS f
SET months_touched = m.months
FROM (
    SELECT load_id, array_agg(DISTINCT date_trunc('month', invoice_date)::date ORDER BY date_trunc('month', invoice_date)::date) AS months
    FROM raw.transaction_lines
    GROUP BY load_id
) AS m
WHERE m.load_id = f.load_id;
