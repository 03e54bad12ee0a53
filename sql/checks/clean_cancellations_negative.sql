-- clean.order_lines: a cancellation of a product takes units back, so its quantity is negative.
-- (Manual entries and fees under 'C' invoices exist in the real data: only product lines are checked.)
SELECT count(*) AS failed_rows, string_agg(invoice_no || '/' || stock_code, ', ') AS details
FROM (
    SELECT invoice_no, stock_code FROM clean.order_lines
    WHERE is_cancellation AND NOT is_non_product AND quantity >= 0
    ORDER BY line_id + 0  -- not via the primary key: a (parallel) scan and a top-20 sort, not an index walk
    LIMIT 20
) AS bad;
