-- clean.order_lines: the keys every mart groups by are present.
SELECT count(*) AS failed_rows,
       string_agg(DISTINCT line_id::text, ', ') FILTER (WHERE line_id IS NOT NULL) AS details
FROM (
    SELECT line_id FROM clean.order_lines
    WHERE invoice_no IS NULL OR trim(invoice_no) = '' OR stock_code IS NULL OR trim(stock_code) = ''
       OR invoice_date IS NULL OR country IS NULL
    LIMIT 1000
) AS bad;
