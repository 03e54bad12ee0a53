-- clean.order_lines: every loaded line, typed, with its amount and the flags the marts filter on.
-- Cancellations start with 'C', bad-debt adjustments with 'A'; non-product codes are postage, fees,
-- manual entries, samples, tests and gift vouchers (SPEC §2).
--
-- The table is rebuilt in one transaction. Its indexes are dropped after the TRUNCATE and built again after
-- the INSERT: one sort per index instead of a million single-row index insertions (and, on a server with
-- wal_level = minimal such as the embedded one, no WAL at all for a table truncated in the transaction).
TRUNCATE clean.order_lines;

DROP TABLE IF EXISTS order_lines_indexes;
CREATE TEMP TABLE order_lines_indexes ON COMMIT DROP AS
SELECT format('ALTER TABLE clean.order_lines DROP CONSTRAINT %I', c.conname) AS drop_statement,
       format('ALTER TABLE clean.order_lines ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid))
           AS create_statement
FROM pg_constraint AS c
WHERE c.conrelid = 'clean.order_lines'::regclass AND c.contype IN ('p', 'u', 'x')
UNION ALL
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
WHERE i.indrelid = 'clean.order_lines'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid);

DO $$
DECLARE statement text;
BEGIN
    FOR statement IN SELECT drop_statement FROM order_lines_indexes LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

INSERT INTO clean.order_lines (
    line_id, invoice_no, stock_code, description, quantity, invoice_date, invoice_month, unit_price, amount,
    customer_id, country, is_cancellation, is_adjustment, is_non_product
)
SELECT
    t.line_id,
    t.invoice_no,
    t.stock_code,
    t.description,
    t.quantity,
    t.invoice_date,
    date_trunc('month', t.invoice_date)::date AS invoice_month,
    t.unit_price,
    t.quantity * t.unit_price AS amount,
    t.customer_id,
    t.country,
    -- 'C...' or 'c...': two prefix LIKEs compare bytes; upper() would build a new string for every line
    (t.invoice_no LIKE 'C%' OR t.invoice_no LIKE 'c%') AS is_cancellation,
    (t.invoice_no LIKE 'A%' OR t.invoice_no LIKE 'a%') AS is_adjustment,
    (
        t.stock_code IN (
            'POST', 'DOT', 'M', 'm', 'D', 'S', 'B', 'C2', 'C3', 'CRUK', 'PADS', 'ADJUST', 'ADJUST2',
            'AMAZONFEE', 'BANK CHARGES', 'SP1002'
        )
        OR t.stock_code LIKE 'TEST%'
        OR t.stock_code LIKE 'gift\_0001\_%'
        OR t.stock_code LIKE 'DCGS%'
    ) AS is_non_product
FROM raw.transactions AS t;

SET LOCAL maintenance_work_mem = '256MB';
DO $$
DECLARE statement text;
BEGIN
    FOR statement IN SELECT create_statement FROM order_lines_indexes LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

ANALYZE clean.order_lines;

-- The customer x month fact (migration 012), rebuilt with the lines it summarizes.
TRUNCATE clean.customer_months;
INSERT INTO clean.customer_months
SELECT customer_id, invoice_month FROM clean.order_lines WHERE customer_id IS NOT NULL GROUP BY 1, 2;
