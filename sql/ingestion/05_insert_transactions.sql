-- Exactly-once load of one export (SPEC §3). A line's identity is the md5 of its eight canonical values plus
-- its occurrence number among identical lines of the same export. Lines whose identity is already in the
-- warehouse are "already present". The loader runs this once per export, in order, inside the file's
-- transaction, so an export also sees the lines inserted by the exports before it (overlapping sheets of one
-- workbook load their overlap once). A hash anti-join is the cheapest plan here: faster than ON CONFLICT.
WITH hashed AS (
    SELECT c.*,
           md5(ROW(c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date,
                   c.unit_price, c.customer_id, c.country)::text)::uuid AS line_hash
    FROM load_checked AS c
    WHERE c.export_no = :export_no AND cardinality(c.problems) = 0
), numbered AS (
    SELECT h.*, row_number() OVER (PARTITION BY h.line_hash ORDER BY h.source_row) AS occurrence
    FROM hashed AS h
)
INSERT INTO raw.transactions (
    invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    line_hash, occurrence, source_file, source_export, source_row, load_id
)
SELECT n.invoice_no, n.stock_code, n.description, n.quantity, n.invoice_date, n.unit_price, n.customer_id,
       n.country, n.line_hash, n.occurrence, :file_name, (CAST(:export_names AS text[]))[n.export_no + 1],
       n.source_row, :load_id
FROM numbered AS n
WHERE NOT EXISTS (
    SELECT 1 FROM raw.transactions AS t WHERE t.line_hash = n.line_hash AND t.occurrence = n.occurrence
);
