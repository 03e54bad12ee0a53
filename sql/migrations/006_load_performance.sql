-- Performance of the load (see "Performance" in README.md).
--
-- raw.transactions.load_id: a BRIN index instead of a B-tree. Every load appends its rows, so load ids follow
-- the physical order of the table and a few block ranges per load are all an index needs to find a load's
-- rows (the ledger checks, a rejected file's rollback). Keeping the B-tree up to date cost a fifth of the
-- time of a bulk load; a BRIN index costs next to nothing to maintain.
DROP INDEX IF EXISTS raw.transactions_load_id;
CREATE INDEX transactions_load_id ON raw.transactions USING brin (load_id) WITH (pages_per_range = 32, autosummarize = on);
