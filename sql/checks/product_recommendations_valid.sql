-- marts.product_recommendations (SPEC 4.5): every scored customer has a list with ranks 1..n (n <= 10; the
-- table's keys forbid a product twice), never a non-product code, never a product the customer
-- already bought (before the CLV snapshot).
WITH lists AS (
    SELECT customer_id, count(*) AS n, max(rank) AS last FROM marts.product_recommendations GROUP BY customer_id
), snapshot AS (
    SELECT coalesce(max(snapshot_date), 'infinity') AS at FROM marts.customer_lifetime_value
), problems AS (
    SELECT 'missing list' AS problem, c.customer_id FROM marts.customer_lifetime_value AS c
    WHERE NOT EXISTS (SELECT 1 FROM lists AS l WHERE l.customer_id = c.customer_id)
    UNION ALL
    SELECT 'ranks not 1..n', l.customer_id FROM lists AS l WHERE l.last <> l.n OR l.n > 10
    UNION ALL
    SELECT 'non-product code', r.customer_id FROM marts.product_recommendations AS r
    WHERE EXISTS (SELECT 1 FROM clean.order_lines AS o WHERE o.stock_code = r.stock_code AND o.is_non_product)
    UNION ALL
    SELECT 'already bought', r.customer_id FROM marts.product_recommendations AS r, snapshot AS s
    WHERE EXISTS (
        SELECT 1 FROM clean.order_lines AS o
        WHERE o.customer_id = r.customer_id AND o.stock_code = r.stock_code AND o.quantity > 0 AND o.amount > 0
          AND o.description IS NOT NULL AND o.invoice_date < s.at
    )
)
SELECT count(*) AS failed_rows,
       coalesce(string_agg(DISTINCT problem, ', '), 'every scored customer has a valid list') || format(' (%s customers with lists)', (SELECT count(*) FROM lists)) AS details
FROM problems;
