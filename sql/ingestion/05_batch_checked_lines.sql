-- The valid lines of a checked block become a block of typed lines (load_batch, emptied before), inserted
-- exactly once by 06_insert_transactions.sql like the blocks the loader types itself. line_id numbers the
-- block's lines in file order from :first_line_id, as the loader numbers the lines it types.
INSERT INTO load_batch (
    line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    source_row, export_no
)
SELECT :first_line_id + row_number() OVER (ORDER BY c.source_row) - 1,
       c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
       c.country, c.source_row, :export_no
FROM load_checked AS c
WHERE cardinality(c.problems) = 0;
