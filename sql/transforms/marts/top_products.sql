-- marts.top_products: the 100 products (non-product codes excluded) with the highest net sales, net of
-- cancellations; the description shown is the one used most often for the stock code (the smallest one on
-- ties, as mode() picks it).
--
-- Units and net sales are summed for every product; the rest (description, distinct invoices and customers)
-- only for the 100 products kept, from grouped rows rather than with count(DISTINCT ...) and mode(), which
-- sort every line.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.top_products;

WITH per_product AS (
    SELECT stock_code, sum(quantity) AS units_sold, sum(amount) AS net_sales
    FROM clean.order_lines
    WHERE NOT is_non_product AND NOT is_adjustment
    GROUP BY stock_code
), top AS (
    SELECT *
    FROM (SELECT row_number() OVER (ORDER BY net_sales DESC, stock_code) AS rank, * FROM per_product) AS ranked
    WHERE rank <= 100
), lines AS MATERIALIZED (
    SELECT l.stock_code, l.description, l.invoice_no, l.is_cancellation, l.customer_id
    FROM clean.order_lines AS l
    WHERE NOT l.is_non_product AND NOT l.is_adjustment AND l.stock_code IN (SELECT stock_code FROM top)
), descriptions AS (
    SELECT DISTINCT ON (stock_code) stock_code, description
    FROM (SELECT stock_code, description, count(*) AS uses FROM lines WHERE description IS NOT NULL GROUP BY 1, 2) AS d
    ORDER BY stock_code, uses DESC, description
), invoices AS (
    SELECT stock_code, count(*) AS invoices
    FROM (SELECT stock_code, invoice_no FROM lines WHERE NOT is_cancellation GROUP BY 1, 2) AS d
    GROUP BY stock_code
), customers AS (
    SELECT stock_code, count(*) AS customers
    FROM (SELECT stock_code, customer_id FROM lines WHERE customer_id IS NOT NULL GROUP BY 1, 2) AS d
    GROUP BY stock_code
)
INSERT INTO marts.top_products
SELECT t.rank, t.stock_code, d.description, t.units_sold, t.net_sales, coalesce(i.invoices, 0),
       coalesce(c.customers, 0)
FROM top AS t
LEFT JOIN descriptions AS d USING (stock_code)
LEFT JOIN invoices AS i USING (stock_code)
LEFT JOIN customers AS c USING (stock_code);
