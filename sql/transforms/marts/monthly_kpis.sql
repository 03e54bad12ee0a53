-- marts.monthly_kpis (SPEC 4.2): one row per calendar month from the first to the last month with lines
-- (months without any line appear with zeros, so the series is contiguous).
TRUNCATE marts.monthly_kpis;

WITH months AS (
    SELECT generate_series(min(invoice_month), max(invoice_month), interval '1 month')::date AS month
    FROM clean.order_lines
    HAVING count(*) > 0
), per_month AS (
    SELECT
        invoice_month AS month,
        count(DISTINCT invoice_no) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS placed_orders,
        count(DISTINCT invoice_no) FILTER (WHERE is_cancellation) AS canceled_orders,
        sum(amount) AS net_sales,
        count(DISTINCT customer_id) AS active_customers
    FROM clean.order_lines
    GROUP BY invoice_month
), first_months AS (
    SELECT min(invoice_month) AS month
    FROM clean.order_lines
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id
), new_per_month AS (
    SELECT month, count(*) AS new_customers FROM first_months GROUP BY month
), joined AS (
    SELECT
        m.month,
        coalesce(p.placed_orders, 0) AS placed_orders,
        coalesce(p.canceled_orders, 0) AS canceled_orders,
        coalesce(p.net_sales, 0) AS net_sales,
        coalesce(p.active_customers, 0) AS active_customers,
        coalesce(n.new_customers, 0) AS new_customers
    FROM months AS m
    LEFT JOIN per_month AS p USING (month)
    LEFT JOIN new_per_month AS n USING (month)
)
INSERT INTO marts.monthly_kpis
SELECT
    month,
    placed_orders,
    canceled_orders,
    net_sales,
    100 * (net_sales / nullif(lag(net_sales) OVER (ORDER BY month), 0) - 1) AS sales_growth_pct,
    active_customers,
    new_customers,
    active_customers - new_customers AS existing_customers
FROM joined
ORDER BY month;
