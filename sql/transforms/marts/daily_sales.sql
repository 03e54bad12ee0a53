-- marts.daily_sales: one row per day with lines, over all loaded lines (like net_sales in monthly_kpis).
-- Sums are taken per day; distinct invoices and customers are counted from grouped rows (hash aggregates that
-- keep no per-group totals) rather than with count(DISTINCT ...), which sorts every line.
TRUNCATE marts.daily_sales;

WITH per_day AS (
    SELECT invoice_date::date AS day, count(*) AS lines, sum(quantity) AS units, sum(amount) AS net_sales
    FROM clean.order_lines
    GROUP BY 1
), invoices AS (
    SELECT day, count(*) AS invoices
    FROM (SELECT invoice_date::date AS day, invoice_no FROM clean.order_lines GROUP BY 1, 2) AS d
    GROUP BY day
), customers AS (
    SELECT day, count(*) AS customers
    FROM (SELECT invoice_date::date AS day, customer_id FROM clean.order_lines WHERE customer_id IS NOT NULL GROUP BY 1, 2) AS d
    GROUP BY day
)
INSERT INTO marts.daily_sales
SELECT p.day, i.invoices, p.lines, p.units, p.net_sales, coalesce(c.customers, 0)
FROM per_day AS p
JOIN invoices AS i USING (day)
LEFT JOIN customers AS c USING (day);
