-- marts.daily_sales: one row per day with lines, over all loaded lines (like net_sales in monthly_kpis).
TRUNCATE marts.daily_sales;

INSERT INTO marts.daily_sales
SELECT
    invoice_date::date,
    count(DISTINCT invoice_no),
    count(*),
    sum(quantity),
    sum(amount),
    count(DISTINCT customer_id)
FROM clean.order_lines
GROUP BY invoice_date::date;
