-- clean.order_lines: amount = quantity x unit_price, exactly (numeric arithmetic), in the months from
-- :month_start (inclusive) to :month_end (exclusive): the months the run rebuilt.
SELECT count(*) AS failed_rows, string_agg(line_id::text, ', ') AS details
FROM (
    SELECT line_id FROM clean.order_lines
    WHERE amount IS DISTINCT FROM quantity * unit_price
      AND invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
    ORDER BY line_id + 0  -- not via the primary key: a (parallel) scan and a top-20 sort, not an index walk
    LIMIT 20
) AS bad;
