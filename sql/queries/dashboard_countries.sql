-- Trends' country filter, largest market first.
SELECT country, invoices, customers, net_sales, share_of_sales, canceled_orders
FROM marts.sales_by_country
ORDER BY net_sales DESC, country
