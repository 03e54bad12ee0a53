-- Products: the products most often on the same purchase invoices as :stock_code.
SELECT t.other_stock_code AS stock_code, t.description, t.invoices_together,
       t.invoices_together::numeric / nullif(p.invoices, 0) AS share_of_orders
FROM marts.products_bought_together AS t
LEFT JOIN marts.top_products AS p ON p.stock_code = t.stock_code
WHERE t.stock_code = :stock_code
ORDER BY t.invoices_together DESC, t.other_stock_code
LIMIT :limit
