-- clean.order_lines: invoice dates inside a plausible window and not in the future (shop-local time may
-- run ahead of the server's UTC clock by up to a day).
SELECT count(*) AS failed_rows,
       string_agg(invoice_no || ' at ' || invoice_date::text, ', ') AS details
FROM (
    SELECT invoice_no, invoice_date FROM clean.order_lines
    WHERE invoice_date < CAST(:earliest AS timestamp)
       OR invoice_date > (now() AT TIME ZONE 'UTC') + interval '1 day'
    ORDER BY invoice_date DESC
    LIMIT 20
) AS bad;
