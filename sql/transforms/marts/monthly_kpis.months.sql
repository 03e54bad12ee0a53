-- marts.monthly_kpis (SPEC 4.2) for the months of a run (retail.month_start inclusive .. retail.month_end
-- exclusive, set by the asset), deleted and inserted again in one transaction; the same figures as
-- monthly_kpis.sql (the full rebuild) gives for those months:
--   - a month's growth needs the previous month's net sales: read from that month's lines;
--   - new customers need each customer's first month: the least month of the customer in
--     clean.customer_months (the fact built with clean.order_lines), read through its primary key for the
--     customers active in the run's months only;
--   - the table has a row for every month from the first to the last month with lines (zeros in between): the
--     span is that of the run's lines and of the rows kept outside the run's months.
DELETE FROM marts.monthly_kpis
WHERE month >= current_setting('retail.month_start')::date
  AND month < current_setting('retail.month_end')::date;

WITH bounds AS (
    SELECT current_setting('retail.month_start')::date AS month_start,
           current_setting('retail.month_end')::date AS month_end
), lines AS MATERIALIZED (
    SELECT l.invoice_month AS month, l.invoice_no, l.is_cancellation, l.is_adjustment, l.amount
    FROM clean.order_lines AS l, bounds AS b
    WHERE l.invoice_month >= (b.month_start - interval '1 month')::date AND l.invoice_month < b.month_end
), sales AS (
    SELECT month, sum(amount) AS net_sales FROM lines GROUP BY month
), orders AS (
    SELECT
        month,
        count(*) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS placed_orders,
        count(*) FILTER (WHERE is_cancellation) AS canceled_orders
    FROM (
        SELECT month, invoice_no, is_cancellation, is_adjustment
        FROM lines
        GROUP BY month, invoice_no, is_cancellation, is_adjustment
    ) AS d
    GROUP BY month
), customer_months AS MATERIALIZED (
    SELECT c.customer_id, c.month
    FROM clean.customer_months AS c, bounds AS b
    WHERE c.month >= b.month_start AND c.month < b.month_end
), active_per_month AS (
    SELECT month, count(*) AS active_customers FROM customer_months GROUP BY month
), new_per_month AS (
    SELECT first_months.month, count(*) AS new_customers
    FROM (
        SELECT c.customer_id, min(c.month) AS month
        FROM clean.customer_months AS c
        WHERE c.customer_id IN (SELECT customer_id FROM customer_months)
        GROUP BY c.customer_id
    ) AS first_months, bounds AS b
    WHERE first_months.month >= b.month_start AND first_months.month < b.month_end
    GROUP BY first_months.month
), span AS (
    SELECT min(month) AS first_month, max(month) AS last_month
    FROM (
        SELECT month FROM sales, bounds WHERE month >= month_start
        UNION ALL
        SELECT k.month FROM marts.monthly_kpis AS k
    ) AS present
), months AS (
    SELECT generate_series(
               (SELECT (month_start - interval '1 month')::date FROM bounds),
               (SELECT (month_end - interval '1 month')::date FROM bounds),
               interval '1 month'
           )::date AS month
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
), growth AS (
    SELECT
        j.*,
        100 * (j.net_sales / nullif(lag(j.net_sales) OVER (ORDER BY j.month), 0) - 1) AS sales_growth_pct
    FROM joined AS j
)
INSERT INTO marts.monthly_kpis
SELECT
    g.month,
    g.placed_orders,
    g.canceled_orders,
    g.net_sales,
    -- the first month of the span has no previous month (null, as lag() gives in the full rebuild)
    CASE WHEN g.month > sp.first_month THEN g.sales_growth_pct END,
    g.active_customers,
    g.new_customers,
    g.active_customers - g.new_customers
FROM growth AS g, span AS sp, bounds AS b
WHERE g.month >= b.month_start AND g.month < b.month_end
  AND g.month BETWEEN sp.first_month AND sp.last_month
ORDER BY g.month;
