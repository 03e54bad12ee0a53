-- Overview and Trends: every month of marts.monthly_kpis (SPEC 4.2).
SELECT month, placed_orders, canceled_orders, net_sales, sales_growth_pct, active_customers, new_customers,
       existing_customers
FROM marts.monthly_kpis
ORDER BY month
