-- marts.top_products: the 100 products (non-product codes excluded) with the highest net sales, net of
-- cancellations; the description shown is the one used most often for the stock code (the smallest one on
-- ties, as mode() picks it).
--
-- Read from the facts of migration 018, not the lines: units and net sales are sums of clean.product_months
-- for every product; the rest only for the 100 products kept: description uses from
-- clean.product_descriptions; customers from the months' distinct customer arrays (exact over months);
-- invoices as the sum of the months' distinct invoices, less one for every further month of an invoice that
-- has lines of the product in several months (clean.spanning_invoices lists those invoices with their months;
-- normally there is none, and the lines of those months are then not read at all).
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.top_products;

WITH per_product AS (
    SELECT stock_code, sum(units) AS units_sold, sum(net_sales) AS net_sales
    FROM clean.product_months
    GROUP BY stock_code
), top AS (
    SELECT *
    FROM (SELECT row_number() OVER (ORDER BY net_sales DESC, stock_code) AS rank, * FROM per_product) AS ranked
    WHERE rank <= 100
), descriptions AS (
    SELECT DISTINCT ON (stock_code) stock_code, description
    FROM (
        SELECT d.stock_code, d.description, sum(d.lines) AS uses
        FROM clean.product_descriptions AS d
        WHERE d.stock_code IN (SELECT stock_code FROM top)
        GROUP BY 1, 2
    ) AS d
    ORDER BY stock_code, uses DESC, description
), month_invoices AS (
    SELECT p.stock_code, sum(p.invoices) AS invoices
    FROM clean.product_months AS p
    WHERE p.stock_code IN (SELECT stock_code FROM top)
    GROUP BY p.stock_code
), spanning AS MATERIALIZED (
    -- invoices (neither cancellations nor adjustments) with lines in more than one month (migration 022)
    SELECT DISTINCT invoice_no FROM clean.spanning_invoices
), spanning_months AS MATERIALIZED (
    SELECT DISTINCT month FROM clean.spanning_invoices
), repeats AS (
    -- (product, invoice, month) of those invoices' product lines, read month by month (BRIN on invoice_month)
    SELECT DISTINCT l.stock_code, l.invoice_no, l.invoice_month
    FROM spanning_months AS m
    CROSS JOIN LATERAL (
        SELECT o.stock_code, o.invoice_no, o.invoice_month
        FROM clean.order_lines AS o
        WHERE o.invoice_month = m.month
          AND o.invoice_no IN (SELECT invoice_no FROM spanning)
          AND NOT o.is_non_product AND NOT o.is_adjustment AND NOT o.is_cancellation
    ) AS l
), overcounts AS (
    SELECT stock_code, count(*) - count(DISTINCT invoice_no) AS overcount
    FROM repeats
    GROUP BY stock_code
), customers AS (
    SELECT stock_code, count(*) AS customers
    FROM (
        SELECT p.stock_code, c.customer_id
        FROM clean.product_months AS p, unnest(p.customer_ids) AS c(customer_id)
        WHERE p.stock_code IN (SELECT stock_code FROM top)
        GROUP BY 1, 2
    ) AS d
    GROUP BY stock_code
)
INSERT INTO marts.top_products
SELECT t.rank, t.stock_code, d.description, t.units_sold, t.net_sales,
       coalesce(i.invoices, 0) - coalesce(o.overcount, 0), coalesce(c.customers, 0)
FROM top AS t
LEFT JOIN descriptions AS d USING (stock_code)
LEFT JOIN month_invoices AS i USING (stock_code)
LEFT JOIN overcounts AS o USING (stock_code)
LEFT JOIN customers AS c USING (stock_code);
