-- marts.sales_by_country: one row per country, over all loaded lines; share of the shop's net sales.
-- Read from clean.invoice_facts (migration 018: one invoice x month x customer x country), not the lines: sums
-- add up over its rows; distinct invoices and customers are counted from its rows grouped by country and
-- invoice (customer), which is exact because both are in the fact's key. Whether an invoice is a cancellation
-- or an adjustment depends on its number alone, so grouping by the flags is exact.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.sales_by_country;

WITH sales AS (
    SELECT country, sum(net_amount) AS net_sales
    FROM clean.invoice_facts
    GROUP BY country
), invoices AS (
    SELECT
        country,
        count(*) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS invoices,
        count(*) FILTER (WHERE is_cancellation) AS canceled_orders
    FROM (
        SELECT country, invoice_no, is_cancellation, is_adjustment
        FROM clean.invoice_facts
        GROUP BY country, invoice_no, is_cancellation, is_adjustment
    ) AS d
    GROUP BY country
), customers AS (
    SELECT country, count(*) AS customers
    FROM (SELECT country, customer_id FROM clean.invoice_facts WHERE customer_id IS NOT NULL GROUP BY 1, 2) AS d
    GROUP BY country
)
INSERT INTO marts.sales_by_country
SELECT s.country, i.invoices, coalesce(c.customers, 0), s.net_sales,
       s.net_sales / nullif(sum(s.net_sales) OVER (), 0), i.canceled_orders
FROM sales AS s
JOIN invoices AS i USING (country)
LEFT JOIN customers AS c USING (country);
