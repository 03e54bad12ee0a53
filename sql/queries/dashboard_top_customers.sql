-- Customers: the ten customers who spent most, as starting points for the search.
SELECT customer_id, segment, rfm_score, recency_days, frequency, monetary
FROM marts.rfm_scores
ORDER BY monetary DESC, customer_id
LIMIT 10
