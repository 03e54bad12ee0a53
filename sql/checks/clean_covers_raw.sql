-- clean.order_lines: every raw line is in the clean layer (raw lines are already valid: rejected lines
-- never reach raw.transactions), and nothing else is, in the months from :month_start (inclusive) to
-- :month_end (exclusive): the months the run rebuilt. One full join on line_id finds both kinds of misses.
SELECT count(*) FILTER (WHERE r.line_id IS NULL OR c.line_id IS NULL) AS failed_rows,
       format('raw %s lines, clean %s lines', count(r.line_id), count(c.line_id)) AS details
FROM (
    SELECT line_id FROM raw.transactions
    WHERE invoice_date >= CAST(:month_start AS timestamp) AND invoice_date < CAST(:month_end AS timestamp)
) AS r
FULL JOIN (
    SELECT line_id FROM clean.order_lines
    WHERE invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
) AS c ON c.line_id = r.line_id;
