-- Taking a loaded file back out (issue 13, deliverable 2: `retail-platform retract FILE | --load-id N`).
--
-- raw.present_lines: the lines a load found already present (another export had stored identical copies).
-- Line identity (SPEC §3, migration 009) keeps, per content, the copy numbers 1..n where n is the most copies
-- any one export had, each export storing only the copies beyond what was stored. Removing one load's lines
-- may therefore remove copies another export needs: export A had 2 copies of a line, export B 3 (B stored
-- only its 3rd); retracting A must leave B's 3, so 2 of B's present lines take the place of A's. Without a
-- record of what each export held beyond what it stored, a retraction could not know; this is that record
-- (written by sql/ingestion/06_insert_transactions.sql, shaped like raw.transaction_lines). Loads from before
-- this migration have no such record: retracting one of them removes its lines only (README, "Hard to
-- break").
CREATE TABLE raw.present_lines (LIKE raw.transaction_lines);
CREATE INDEX present_lines_invoice_date ON raw.present_lines USING brin (invoice_date) WITH (pages_per_range = 32);
COMMENT ON TABLE raw.present_lines IS
    'Lines a load found already present (identical copies stored by other exports): what a retraction restores';

-- A retracted load keeps its ledger row (status 'retracted', when, by which row); the retraction itself is a
-- ledger row of its own (status 'retraction', load counts 0) whose months_touched are the months the removal
-- changed, so that the downstream refresh sensor, which follows new ledger rows, rebuilds them.
ALTER TABLE raw.file_loads DROP CONSTRAINT IF EXISTS file_loads_status_check;
ALTER TABLE raw.file_loads ADD CONSTRAINT file_loads_status_check
    CHECK (status IN ('loaded', 'duplicate', 'rejected', 'failed', 'retracted', 'retraction'));
ALTER TABLE raw.file_loads ADD COLUMN retraction_of bigint REFERENCES raw.file_loads (load_id);
ALTER TABLE raw.file_loads ADD COLUMN retracted_at timestamptz;
COMMENT ON COLUMN raw.file_loads.retraction_of IS
    'On a retraction row (status retraction): the load it took back out';
