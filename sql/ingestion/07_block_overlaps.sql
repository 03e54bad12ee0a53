-- Whether the warehouse holds lines of other exports on a block's dates (from :first_date to :last_date).
-- If it does not, no line of the block can be present already (identical lines share their invoice_date) and
-- the block is COPYed as it is; if it does, 06_insert_transactions.sql compares the lines.
SELECT EXISTS (
    SELECT 1
    FROM raw.transaction_lines AS t
    WHERE t.invoice_date BETWEEN CAST(:first_date AS timestamp) AND CAST(:last_date AS timestamp)
      AND (t.line_id >> 32 <> :load_id OR t.export_no <> :export_no)
) AS overlaps;
