-- clean.order_lines: every raw line is in the clean layer once (raw lines are already valid: rejected lines
-- never reach raw.transactions), and nothing else is, in the months from :month_start (inclusive) to
-- :month_end (exclusive): the months the run rebuilt. One full join on line_id finds lines missing on either
-- side; a line found twice in clean (the table has no key: migration 021) repeats its raw row in the join, so
-- the join holds more raw rows than raw itself.
WITH r AS MATERIALIZED (
    SELECT line_id FROM raw.transactions
    WHERE invoice_date >= CAST(:month_start AS timestamp) AND invoice_date < CAST(:month_end AS timestamp)
), joined AS (
    SELECT count(*) FILTER (WHERE r.line_id IS NULL OR c.line_id IS NULL) AS missing,
           count(r.line_id) AS raw_rows,
           count(c.line_id) AS clean_lines
    FROM r
    FULL JOIN (
        SELECT line_id FROM clean.order_lines
        WHERE invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
    ) AS c ON c.line_id = r.line_id
)
SELECT j.missing + (j.raw_rows - n.raw_lines) AS failed_rows,
       format('raw %s lines, clean %s lines', n.raw_lines, j.clean_lines) AS details
FROM joined AS j
CROSS JOIN (SELECT count(*) AS raw_lines FROM r) AS n;
