-- clean.order_lines: every raw line is in the clean layer (raw lines are already valid: rejected lines
-- never reach raw.transactions), and nothing else is. One full join on line_id finds both kinds of misses.
SELECT count(*) FILTER (WHERE r.line_id IS NULL OR c.line_id IS NULL) AS failed_rows,
       format('raw %s lines, clean %s lines', count(r.line_id), count(c.line_id)) AS details
FROM raw.transactions AS r
FULL JOIN clean.order_lines AS c ON c.line_id = r.line_id;
