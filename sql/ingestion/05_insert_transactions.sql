-- Exactly-once load (SPEC §3). A line's identity is the md5 of its eight canonical values plus its occurrence
-- number among identical lines of the same export. Lines whose identity is already in the warehouse, or that
-- appear earlier in this same file (overlapping sheets of one workbook), are "already present".
WITH hashed AS (
    SELECT c.*,
           md5(ROW(c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date,
                   c.unit_price, c.customer_id, c.country)::text)::uuid AS line_hash
    FROM load_checked AS c
    WHERE cardinality(c.problems) = 0
), numbered AS (
    SELECT h.*, row_number() OVER (PARTITION BY h.export_no, h.line_hash ORDER BY h.source_row) AS occurrence
    FROM hashed AS h
), first_seen AS (
    SELECT DISTINCT ON (n.line_hash, n.occurrence) n.*
    FROM numbered AS n
    ORDER BY n.line_hash, n.occurrence, n.export_no, n.source_row
)
INSERT INTO raw.transactions (
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    line_hash, occurrence, source_file, source_export, source_row, load_id
)
SELECT f.invoice_no, f.stock_code, f.description, f.quantity, f.invoice_date, f.unit_price, f.customer_id,
       f.country, f.line_hash, f.occurrence, :file_name, (CAST(:export_names AS text[]))[f.export_no + 1],
       f.source_row, :load_id
FROM first_seen AS f
WHERE NOT EXISTS (
    SELECT 1 FROM raw.transactions AS t WHERE t.line_hash = f.line_hash AND t.occurrence = f.occurrence
)
ORDER BY f.invoice_date, f.export_no, f.source_row;
