-- marts.daily_sales: one row per day with lines, for the months from :month_start (inclusive) to :month_end
-- (exclusive); a full refresh passes '-infinity' .. 'infinity' (every month that holds data). The days of
-- those months are deleted and inserted again from their lines in one transaction (readers see the old days or
-- the new ones; no exclusive lock). Sums are taken per day; distinct invoices and customers are counted from
-- grouped rows (hash aggregates that keep no per-group totals) rather than with count(DISTINCT ...), which
-- sorts every line.
DELETE FROM marts.daily_sales
WHERE day >= CAST(:month_start AS date)
  AND day < CAST(:month_end AS date);

WITH lines AS MATERIALIZED (
    SELECT invoice_date::date AS day, invoice_no, customer_id, quantity, amount
    FROM clean.order_lines
    WHERE invoice_month >= CAST(:month_start AS date)
      AND invoice_month < CAST(:month_end AS date)
), per_day AS (
    SELECT day, count(*) AS lines, sum(quantity) AS units, sum(amount) AS net_sales
    FROM lines
    GROUP BY 1
), invoices AS (
    SELECT day, count(*) AS invoices
    FROM (SELECT day, invoice_no FROM lines GROUP BY 1, 2) AS d
    GROUP BY day
), customers AS (
    SELECT day, count(*) AS customers
    FROM (SELECT day, customer_id FROM lines WHERE customer_id IS NOT NULL GROUP BY 1, 2) AS d
    GROUP BY day
)
INSERT INTO marts.daily_sales
SELECT p.day, i.invoices, p.lines, p.units, p.net_sales, coalesce(c.customers, 0)
FROM per_day AS p
JOIN invoices AS i USING (day)
LEFT JOIN customers AS c USING (day);
