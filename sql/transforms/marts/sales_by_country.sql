-- marts.sales_by_country: one row per country, over all loaded lines; share of the shop's net sales.
TRUNCATE marts.sales_by_country;

WITH per_country AS (
    SELECT
        country,
        count(DISTINCT invoice_no) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS invoices,
        count(DISTINCT customer_id) AS customers,
        sum(amount) AS net_sales,
        count(DISTINCT invoice_no) FILTER (WHERE is_cancellation) AS canceled_orders
    FROM clean.order_lines
    GROUP BY country
)
INSERT INTO marts.sales_by_country
SELECT country, invoices, customers, net_sales, net_sales / nullif(sum(net_sales) OVER (), 0), canceled_orders
FROM per_country;
