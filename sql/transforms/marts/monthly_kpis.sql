-- marts.monthly_kpis (SPEC 4.2): one row per calendar month from the first to the last month with lines
-- (months without any line appear with zeros, so the series is contiguous).
--
-- Sums are taken per month; distinct invoices and customers are counted from grouped rows (hash aggregates
-- that keep no per-group totals) rather than with count(DISTINCT ...), which sorts every line. Whether an
-- invoice is a cancellation or an adjustment depends on its number alone, so grouping by the flags is exact.
TRUNCATE marts.monthly_kpis;

WITH sales AS (
    SELECT invoice_month AS month, sum(amount) AS net_sales
    FROM clean.order_lines
    GROUP BY invoice_month
), orders AS (
    SELECT
        month,
        count(*) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS placed_orders,
        count(*) FILTER (WHERE is_cancellation) AS canceled_orders
    FROM (
        SELECT invoice_month AS month, invoice_no, is_cancellation, is_adjustment
        FROM clean.order_lines
        GROUP BY invoice_month, invoice_no, is_cancellation, is_adjustment
    ) AS d
    GROUP BY month
), customer_months AS MATERIALIZED (
    SELECT customer_id, invoice_month AS month
    FROM clean.order_lines
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id, invoice_month
), active_per_month AS (
    SELECT month, count(*) AS active_customers FROM customer_months GROUP BY month
), new_per_month AS (
    SELECT month, count(*) AS new_customers
    FROM (SELECT min(month) AS month FROM customer_months GROUP BY customer_id) AS first_months
    GROUP BY month
), months AS (
    SELECT generate_series(min(month), max(month), interval '1 month')::date AS month
    FROM sales
    HAVING count(*) > 0
), joined AS (
    SELECT
        m.month,
        coalesce(o.placed_orders, 0) AS placed_orders,
        coalesce(o.canceled_orders, 0) AS canceled_orders,
        coalesce(s.net_sales, 0) AS net_sales,
        coalesce(a.active_customers, 0) AS active_customers,
        coalesce(n.new_customers, 0) AS new_customers
    FROM months AS m
    LEFT JOIN sales AS s USING (month)
    LEFT JOIN orders AS o USING (month)
    LEFT JOIN active_per_month AS a USING (month)
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
