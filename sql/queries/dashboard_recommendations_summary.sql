SELECT count(DISTINCT customer_id)::integer AS customers FROM marts.product_recommendations
