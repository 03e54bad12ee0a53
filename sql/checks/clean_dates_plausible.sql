-- clean.order_lines: invoice dates inside a plausible window (from :earliest, not after tomorrow: shop-local
-- time may run ahead of the server's UTC clock by up to a day), as a share of the lines. The load rejects
-- single implausible lines itself (sql/ingestion/09_plausible_lines.sql), so one bad line never gets here;
-- this check guards systemic failures (a clock or export bug, lines loaded before the bounds existed, bounds
-- loosened by hand): it fails when more than :max_share of the lines are outside the window. Below that, the
-- details still list the first lines outside it and the share (the check passes and says so). It looks at the
-- months from :month_start (inclusive) to :month_end (exclusive): the months the run rebuilt.
WITH lines AS (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE invoice_date < CAST(:earliest AS timestamp)
                               OR invoice_date >= date_trunc('day', now() AT TIME ZONE 'UTC') + interval '2 days')
               AS outside
    FROM clean.order_lines
    WHERE invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
), first_outside AS (
    SELECT string_agg(invoice_no || ' at ' || invoice_date::text, ', ') AS listed
    FROM (
        SELECT invoice_no, invoice_date FROM clean.order_lines
        WHERE (invoice_date < CAST(:earliest AS timestamp)
               OR invoice_date >= date_trunc('day', now() AT TIME ZONE 'UTC') + interval '2 days')
          AND invoice_month >= CAST(:month_start AS date) AND invoice_month < CAST(:month_end AS date)
        ORDER BY invoice_date DESC
        LIMIT 20
    ) AS bad
)
SELECT CASE WHEN l.outside > CAST(:max_share AS numeric) * l.total THEN l.outside ELSE 0 END AS failed_rows,
       CASE WHEN l.outside > 0 THEN
           format('%s of %s lines (%s%%, limit %s%%) dated outside the window: %s', l.outside, l.total,
                  round(100.0 * l.outside / l.total, 3), round(100 * CAST(:max_share AS numeric), 3), f.listed)
       END AS details
FROM lines AS l CROSS JOIN first_outside AS f;
