-- The valid lines of a checked block become typed lines with their identity (SPEC §3): the md5 of the eight
-- canonical values (the loader computes the very same hash in Python for the blocks it types itself: the text
-- of ROW(...) under DateStyle ISO) and the copy number among identical lines of the block, in file order.
-- (load_batch is emptied before.)
INSERT INTO load_batch
SELECT h.invoice_no, h.stock_code, h.description, h.quantity, h.invoice_date, h.unit_price, h.customer_id,
       h.country, h.line_hash, row_number() OVER (PARTITION BY h.line_hash ORDER BY h.source_row),
       :file_name, :export_name, h.source_row, :load_id
FROM (
    SELECT c.*,
           md5(ROW(c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date,
                   c.unit_price, c.customer_id, c.country)::text)::uuid AS line_hash
    FROM load_checked AS c
    WHERE cardinality(c.problems) = 0
) AS h;
