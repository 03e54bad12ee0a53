-- The valid lines of a checked block become a block of typed lines (load_batch, emptied before), inserted
-- exactly once by 06_insert_transactions.sql like the blocks the loader types itself.
INSERT INTO load_batch
SELECT c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
       c.country, c.source_row, :load_id, :export_no
FROM load_checked AS c
WHERE cardinality(c.problems) = 0;
