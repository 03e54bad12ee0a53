-- marts.top_products: the 100 products (non-product codes excluded) with the highest net sales, net of
-- cancellations; the description shown is the one used most often for the stock code.
TRUNCATE marts.top_products;

WITH per_product AS (
    SELECT
        stock_code,
        mode() WITHIN GROUP (ORDER BY description) AS description,
        sum(quantity) AS units_sold,
        sum(amount) AS net_sales,
        count(DISTINCT invoice_no) FILTER (WHERE NOT is_cancellation) AS invoices,
        count(DISTINCT customer_id) AS customers
    FROM clean.order_lines
    WHERE NOT is_non_product AND NOT is_adjustment
    GROUP BY stock_code
)
INSERT INTO marts.top_products
SELECT rank, stock_code, description, units_sold, net_sales, invoices, customers
FROM (
    SELECT row_number() OVER (ORDER BY net_sales DESC, stock_code) AS rank, *
    FROM per_product
) AS ranked
WHERE rank <= 100;
