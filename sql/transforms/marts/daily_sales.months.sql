-- marts.daily_sales for the months of a run (retail.month_start inclusive .. retail.month_end exclusive, set
-- by the asset): the days of those months are deleted and inserted again from their lines, in one
-- transaction. The same aggregates as daily_sales.sql (the full rebuild).
DELETE FROM marts.daily_sales
WHERE day >= current_setting('retail.month_start')::date
  AND day < current_setting('retail.month_end')::date;

WITH lines AS MATERIALIZED (
    SELECT invoice_date::date AS day, invoice_no, customer_id, quantity, amount
    FROM clean.order_lines
    WHERE invoice_month >= current_setting('retail.month_start')::date
      AND invoice_month < current_setting('retail.month_end')::date
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
