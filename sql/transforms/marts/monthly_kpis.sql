-- marts.monthly_kpis (SPEC 4.2): one row per calendar month from the first to the last month with lines (months
-- without any line appear with zeros, so the series is contiguous), for the months from :month_start
-- (inclusive) to :month_end (exclusive); a full refresh passes '-infinity' .. 'infinity' (every month that
-- holds data). Those months are deleted and inserted again in one transaction (readers see the old rows or the
-- new ones; no exclusive lock), with the same figures a rebuild of every month gives:
--   - a month's growth needs the previous month's net sales: read from that month's invoice facts;
--   - new customers need each customer's first month: the least month of the customer in
--     clean.customer_months (the fact built with clean.order_lines), read through its primary key for the
--     customers active in the run's months only;
--   - the span of the series is that of the run's lines and of the rows kept outside the run's months.
--
-- Sales and orders are read from clean.invoice_facts (migration 018, rebuilt with the lines in the same
-- refresh), not from the lines: a month has a few thousand fact rows for its hundreds of thousands of lines.
-- Net sales add up over the fact rows; an invoice has one row per customer and country it has lines in, so
-- invoices are counted distinct. Whether an invoice is a cancellation or an adjustment depends on its number
-- alone, so filtering by the flags is exact.
DELETE FROM marts.monthly_kpis
WHERE month >= CAST(:month_start AS date)
  AND month < CAST(:month_end AS date);

WITH bounds AS (
    SELECT CAST(:month_start AS date) AS month_start, CAST(:month_end AS date) AS month_end
), invoice_months AS (
    -- the run's months and the one before them (its growth)
    SELECT
        f.month,
        sum(f.net_amount) AS net_sales,
        count(DISTINCT f.invoice_no) FILTER (WHERE NOT f.is_cancellation AND NOT f.is_adjustment) AS placed_orders,
        count(DISTINCT f.invoice_no) FILTER (WHERE f.is_cancellation) AS canceled_orders
    FROM clean.invoice_facts AS f, bounds AS b
    WHERE f.month >= (b.month_start - interval '1 month')::date AND f.month < b.month_end
    GROUP BY f.month
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
        SELECT month FROM invoice_months, bounds WHERE month >= month_start
        UNION ALL
        SELECT k.month FROM marts.monthly_kpis AS k
    ) AS present
), months AS (
    -- the run's months and the one before them (its growth), within the span (the bounds may be infinite)
    SELECT generate_series(
               greatest((b.month_start - interval '1 month')::date, sp.first_month),
               least((b.month_end - interval '1 month')::date, sp.last_month),
               interval '1 month'
           )::date AS month
    FROM bounds AS b, span AS sp
    WHERE sp.first_month IS NOT NULL  -- no lines at all: no months (greatest/least would skip the nulls)
), joined AS (
    SELECT
        m.month,
        coalesce(s.placed_orders, 0) AS placed_orders,
        coalesce(s.canceled_orders, 0) AS canceled_orders,
        coalesce(s.net_sales, 0) AS net_sales,
        coalesce(a.active_customers, 0) AS active_customers,
        coalesce(n.new_customers, 0) AS new_customers
    FROM months AS m
    LEFT JOIN invoice_months AS s USING (month)
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
    -- the first month of the span has no previous month (null, as lag() gives it)
    CASE WHEN g.month > sp.first_month THEN g.sales_growth_pct END,
    g.active_customers,
    g.new_customers,
    g.active_customers - g.new_customers
FROM growth AS g, span AS sp, bounds AS b
WHERE g.month >= b.month_start AND g.month < b.month_end
  AND g.month BETWEEN sp.first_month AND sp.last_month
ORDER BY g.month;
