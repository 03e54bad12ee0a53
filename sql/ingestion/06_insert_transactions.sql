-- Exactly-once insert of a block of typed lines (load_batch) of export :export_no of load :load_id (SPEC §3),
-- for the blocks that cannot simply be COPYed into raw.transaction_lines: the warehouse holds lines of other
-- exports on the block's dates, or identical copies of its lines sit in earlier blocks of the export.
--
-- A line's identity is its content plus its copy number among identical lines of its export. The copies of a
-- content stored in the warehouse always hold the copy numbers 1..n (each export adds the copies beyond what
-- was stored), so with n copies stored by other exports, a line whose copy number is at most n is already
-- present and one above n is new. Copy numbers continue those of the export's earlier blocks: its lines
-- loaded there (this export's rows of raw.transaction_lines) and those found present (load_present).
--
-- Identical lines share invoice_no and invoice_date: the candidates are read through the BRIN index on
-- invoice_date, only on the block's dates. Nullable columns compare with IS NOT DISTINCT FROM (two lines
-- without a customer are identical). One statement: every part sees the warehouse as it was before the insert.
WITH block AS (
    SELECT b.*,
           row_number() OVER (
               PARTITION BY b.invoice_no, b.stock_code, b.description, b.quantity, b.invoice_date, b.unit_price,
                            b.customer_id, b.country
               ORDER BY b.source_row
           ) AS copy_no
    FROM load_batch AS b
), copies AS (
    -- per content: copies in earlier blocks of this export (its rows loaded so far, and those found present)
    -- and copies stored by other exports
    SELECT c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
           c.country,
           count(*) FILTER (WHERE c.this_export) AS earlier,
           count(*) FILTER (WHERE NOT c.this_export) AS stored
    FROM (
        SELECT t.invoice_no, t.stock_code, t.description, t.quantity, t.invoice_date, t.unit_price, t.customer_id,
               t.country, (t.line_id >> 32 = :load_id AND t.export_no = :export_no) AS this_export
        FROM raw.transaction_lines AS t
        WHERE t.invoice_date BETWEEN (SELECT min(b.invoice_date) FROM load_batch AS b)
                                 AND (SELECT max(b.invoice_date) FROM load_batch AS b)
          AND t.invoice_no IN (SELECT b.invoice_no FROM load_batch AS b)
        UNION ALL
        SELECT p.invoice_no, p.stock_code, p.description, p.quantity, p.invoice_date, p.unit_price, p.customer_id,
               p.country, true
        FROM load_present AS p
        WHERE p.invoice_no IN (SELECT b.invoice_no FROM load_batch AS b)
    ) AS c
    GROUP BY c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
             c.country
), numbered AS (
    SELECT b.*, b.copy_no + coalesce(c.earlier, 0) > coalesce(c.stored, 0) AS is_new
    FROM block AS b
    LEFT JOIN copies AS c
        ON c.invoice_no = b.invoice_no AND c.stock_code = b.stock_code AND c.quantity = b.quantity
       AND c.invoice_date = b.invoice_date AND c.unit_price = b.unit_price AND c.country = b.country
       AND c.description IS NOT DISTINCT FROM b.description AND c.customer_id IS NOT DISTINCT FROM b.customer_id
), inserted AS (
    INSERT INTO raw.transaction_lines (
        line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
        source_row, export_no
    )
    SELECT n.line_id, n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date, n.unit_price, n.customer_id,
           n.country, n.source_row, :export_no
    FROM numbered AS n
    WHERE n.is_new
    ORDER BY n.line_id
    RETURNING date_trunc('month', invoice_date)::date AS month
), kept_present AS (
    -- the same lines, kept: what a retraction of another load restores (sql/migrations/013_retraction.sql)
    INSERT INTO raw.present_lines (
        line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
        source_row, export_no
    )
    SELECT n.line_id, n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date, n.unit_price,
           n.customer_id, n.country, n.source_row, :export_no
    FROM numbered AS n
    WHERE NOT n.is_new
), recorded AS (
    INSERT INTO load_present
    SELECT n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date, n.unit_price, n.customer_id,
           n.country
    FROM numbered AS n
    WHERE NOT n.is_new
    RETURNING 1
)
-- months: those of the lines inserted (raw.file_loads.months_touched: what an incremental refresh rebuilds)
SELECT (SELECT count(*) FROM inserted) AS lines_loaded, (SELECT count(*) FROM recorded) AS lines_present,
       (SELECT coalesce(array_agg(DISTINCT i.month ORDER BY i.month), '{}') FROM inserted AS i) AS months;
