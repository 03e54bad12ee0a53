SELECT rank, stock_code, description, units_sold, net_sales, invoices, customers
FROM marts.top_products
ORDER BY rank
