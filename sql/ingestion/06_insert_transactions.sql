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
), candidates AS (
    SELECT t.invoice_no, t.stock_code, t.description, t.quantity, t.invoice_date, t.unit_price, t.customer_id,
           t.country, (t.load_id = :load_id AND t.export_no = :export_no) AS this_export
    FROM raw.transaction_lines AS t
    WHERE t.invoice_date BETWEEN (SELECT min(b.invoice_date) FROM load_batch AS b)
                             AND (SELECT max(b.invoice_date) FROM load_batch AS b)
      AND t.invoice_no IN (SELECT b.invoice_no FROM load_batch AS b)
), earlier AS (
    SELECT e.invoice_no, e.stock_code, e.description, e.quantity, e.invoice_date, e.unit_price, e.customer_id,
           e.country, count(*) AS copies
    FROM (
        SELECT c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price,
               c.customer_id, c.country
        FROM candidates AS c
        WHERE c.this_export
        UNION ALL
        SELECT p.invoice_no, p.stock_code, p.description, p.quantity, p.invoice_date, p.unit_price,
               p.customer_id, p.country
        FROM load_present AS p
        WHERE p.invoice_no IN (SELECT b.invoice_no FROM load_batch AS b)
    ) AS e
    GROUP BY e.invoice_no, e.stock_code, e.description, e.quantity, e.invoice_date, e.unit_price, e.customer_id,
             e.country
), stored AS (
    SELECT c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
           c.country, count(*) AS copies
    FROM candidates AS c
    WHERE NOT c.this_export
    GROUP BY c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
             c.country
), numbered AS (
    SELECT b.*, b.copy_no + coalesce(e.copies, 0) > coalesce(s.copies, 0) AS is_new
    FROM block AS b
    LEFT JOIN earlier AS e
        ON e.invoice_no = b.invoice_no AND e.stock_code = b.stock_code AND e.quantity = b.quantity
       AND e.invoice_date = b.invoice_date AND e.unit_price = b.unit_price AND e.country = b.country
       AND e.description IS NOT DISTINCT FROM b.description AND e.customer_id IS NOT DISTINCT FROM b.customer_id
    LEFT JOIN stored AS s
        ON s.invoice_no = b.invoice_no AND s.stock_code = b.stock_code AND s.quantity = b.quantity
       AND s.invoice_date = b.invoice_date AND s.unit_price = b.unit_price AND s.country = b.country
       AND s.description IS NOT DISTINCT FROM b.description AND s.customer_id IS NOT DISTINCT FROM b.customer_id
), inserted AS (
    INSERT INTO raw.transaction_lines (
        line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
        source_row, load_id, export_no
    )
    SELECT n.line_id, n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date, n.unit_price, n.customer_id,
           n.country, n.source_row, :load_id, :export_no
    FROM numbered AS n
    WHERE n.is_new
    ORDER BY n.line_id
    RETURNING 1
), recorded AS (
    INSERT INTO load_present
    SELECT n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date, n.unit_price, n.customer_id,
           n.country
    FROM numbered AS n
    WHERE NOT n.is_new
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS lines_loaded, (SELECT count(*) FROM recorded) AS lines_present;
