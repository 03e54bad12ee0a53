SELECT rank, stock_code, description, score, source
FROM marts.product_recommendations
WHERE customer_id = :customer_id
ORDER BY rank
