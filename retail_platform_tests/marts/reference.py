"""The global marts' definitions on the lines (SPEC 4.1, 4.3 and the country and product views), as the
transforms computed them before the facts of migration 018: the reference the facts-based marts must equal
row for row. Each is the old transform's SELECT (its INSERT target and TRUNCATE removed), read from
``clean.order_lines`` / ``clean.purchase_lines`` only."""

# sql/transforms/marts/invoice_amount_stats.sql
INVOICE_AMOUNT_STATS = """
WITH invoices AS (
    SELECT invoice_no, sum(amount) AS amount
    FROM clean.order_lines
    WHERE amount > 0
    GROUP BY invoice_no
), cutoff AS (
    SELECT percentile_cont(0.85) WITHIN GROUP (ORDER BY amount::float8)::numeric AS p85 FROM invoices
), variants AS (
    SELECT 'all' AS variant, i.amount FROM invoices AS i
    UNION ALL
    SELECT 'without_outliers', i.amount FROM invoices AS i CROSS JOIN cutoff AS c WHERE i.amount <= c.p85
), modes AS (
    SELECT DISTINCT ON (variant) variant, amount AS mode_amount
    FROM (SELECT variant, amount, count(*) AS n FROM variants GROUP BY variant, amount) AS counted
    ORDER BY variant, n DESC, amount
)
SELECT
    v.variant,
    count(*),
    min(v.amount),
    avg(v.amount),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY v.amount::float8)::numeric,
    m.mode_amount,
    max(v.amount),
    percentile_cont(0.85) WITHIN GROUP (ORDER BY v.amount::float8)::numeric,
    c.p85
FROM variants AS v
JOIN modes AS m USING (variant)
CROSS JOIN cutoff AS c
GROUP BY v.variant, m.mode_amount, c.p85
"""

# sql/transforms/marts/sales_by_country.sql
SALES_BY_COUNTRY = """
WITH sales AS (
    SELECT country, sum(amount) AS net_sales
    FROM clean.order_lines
    GROUP BY country
), invoices AS (
    SELECT
        country,
        count(*) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS invoices,
        count(*) FILTER (WHERE is_cancellation) AS canceled_orders
    FROM (
        SELECT country, invoice_no, is_cancellation, is_adjustment
        FROM clean.order_lines
        GROUP BY country, invoice_no, is_cancellation, is_adjustment
    ) AS d
    GROUP BY country
), customers AS (
    SELECT country, count(*) AS customers
    FROM (SELECT country, customer_id FROM clean.order_lines WHERE customer_id IS NOT NULL GROUP BY 1, 2) AS d
    GROUP BY country
)
SELECT s.country, i.invoices, coalesce(c.customers, 0), s.net_sales,
       s.net_sales / nullif(sum(s.net_sales) OVER (), 0), i.canceled_orders
FROM sales AS s
JOIN invoices AS i USING (country)
LEFT JOIN customers AS c USING (country)
"""

# sql/transforms/marts/top_products.sql
TOP_PRODUCTS = """
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
SELECT t.rank, t.stock_code, d.description, t.units_sold, t.net_sales, coalesce(i.invoices, 0),
       coalesce(c.customers, 0)
FROM top AS t
LEFT JOIN descriptions AS d USING (stock_code)
LEFT JOIN invoices AS i USING (stock_code)
LEFT JOIN customers AS c USING (stock_code)
"""

# sql/queries/rfm_customer_facts.sql
RFM_CUSTOMER_FACTS = """
SELECT
    customer_id,
    max(last_purchase) AS last_purchase,
    count(*)           AS frequency,
    sum(monetary)      AS monetary
FROM (
    SELECT customer_id, invoice_no, max(invoice_date) AS last_purchase, sum(amount) AS monetary
    FROM clean.purchase_lines
    GROUP BY customer_id, invoice_no
) AS per_invoice
GROUP BY customer_id
ORDER BY customer_id
"""

# sql/queries/invoice_amounts.sql
INVOICE_AMOUNTS = """
SELECT invoice_no, sum(amount) AS amount
FROM clean.order_lines
WHERE amount > 0
GROUP BY invoice_no
"""
