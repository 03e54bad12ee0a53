-- clean.order_lines: every raw line is in the clean layer (raw lines are already valid: rejected lines
-- never reach raw.transactions), and nothing else is.
SELECT
    (SELECT count(*) FROM raw.transactions AS r
      WHERE NOT EXISTS (SELECT 1 FROM clean.order_lines AS c WHERE c.line_id = r.line_id))
  + (SELECT count(*) FROM clean.order_lines AS c
      WHERE NOT EXISTS (SELECT 1 FROM raw.transactions AS r WHERE r.line_id = c.line_id)) AS failed_rows,
    format('raw %s lines, clean %s lines', (SELECT count(*) FROM raw.transactions),
           (SELECT count(*) FROM clean.order_lines)) AS details;
