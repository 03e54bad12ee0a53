-- clean.order_lines: a cancellation of a product takes units back, so its quantity is negative.
-- (Manual entries and fees under 'C' invoices exist in the real data: only product lines are checked.)
-- In the months from :month_start (inclusive) to :month_end (exclusive): the months the run rebuilt.
SELECT count(*) AS failed_rows, string_agg(invoice_no || '/' || stock_code, ', ') AS details
FROM (
    SELECT invoice_no, stock_code FROM clean.order_lines
    WHERE is_cancellation AND NOT is_non_product AND quantity >= 0
      AND invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
    ORDER BY line_id + 0  -- not via the primary key: a (parallel) scan and a top-20 sort, not an index walk
    LIMIT 20
) AS bad;
