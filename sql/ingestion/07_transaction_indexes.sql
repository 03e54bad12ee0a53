-- The indexes of raw.transactions, to drop and rebuild around a bulk load: constraints (the primary key) by
-- their definition, plain indexes by their CREATE INDEX statement.
SELECT 'constraint' AS kind, quote_ident(c.conname) AS name, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint AS c
WHERE c.conrelid = 'raw.transactions'::regclass AND c.contype IN ('p', 'u', 'x')
UNION ALL
SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = 'raw.transactions'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid);
