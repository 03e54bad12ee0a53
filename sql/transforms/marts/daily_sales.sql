-- marts.daily_sales: one row per day with lines, for the months from :month_start (inclusive) to :month_end
-- (exclusive); a full refresh passes '-infinity' .. 'infinity' (every month that holds data). The days of
-- those months are deleted and inserted again from their lines in one transaction (readers see the old days or
-- the new ones; no exclusive lock).
--
-- One hash aggregate over the lines, to one row per day x invoice x customer (an invoice's lines share their
-- day and customer: about 60,000 rows for 1,067,371 lines), then the day's sums and distinct counts over those
-- rows. Exact whatever the lines (an invoice over several days or customers gives a row for each), and one pass
-- over the lines instead of three (a materialized CTE grouped three times: 0.8-1.1 s against 0.45-0.6 s at
-- 1,067,371 lines).
DELETE FROM marts.daily_sales
WHERE day >= CAST(:month_start AS date)
  AND day < CAST(:month_end AS date);

INSERT INTO marts.daily_sales
SELECT
    day,
    count(DISTINCT invoice_no) AS invoices,
    sum(lines) AS lines,
    sum(units) AS units,
    sum(net_sales) AS net_sales,
    count(DISTINCT customer_id) AS customers
FROM (
    SELECT
        invoice_date::date AS day,
        invoice_no,
        customer_id,
        count(*) AS lines,
        sum(quantity) AS units,
        sum(amount) AS net_sales
    FROM clean.order_lines
    WHERE invoice_month >= CAST(:month_start AS date)
      AND invoice_month < CAST(:month_end AS date)
    GROUP BY 1, 2, 3
) AS day_invoices
GROUP BY day;
