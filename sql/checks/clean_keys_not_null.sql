-- clean.order_lines: the keys every mart groups by are present, in the months from :month_start (inclusive) to
-- :month_end (exclusive): the months the run rebuilt. (Dates and months are NOT NULL columns.)
SELECT count(*) AS failed_rows,
       string_agg(DISTINCT line_id::text, ', ') FILTER (WHERE line_id IS NOT NULL) AS details
FROM (
    SELECT line_id FROM clean.order_lines
    WHERE (invoice_no IS NULL OR trim(invoice_no) = '' OR stock_code IS NULL OR trim(stock_code) = ''
           OR country IS NULL)
      AND invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
    LIMIT 1000
) AS bad;
