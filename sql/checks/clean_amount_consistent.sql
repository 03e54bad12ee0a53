-- clean.order_lines: amount = quantity x unit_price, exactly (numeric arithmetic).
SELECT count(*) AS failed_rows, string_agg(line_id::text, ', ') AS details
FROM (
    SELECT line_id FROM clean.order_lines
    WHERE amount IS DISTINCT FROM quantity * unit_price
    ORDER BY line_id + 0  -- not via the primary key: a (parallel) scan and a top-20 sort, not an index walk
    LIMIT 20
) AS bad;
