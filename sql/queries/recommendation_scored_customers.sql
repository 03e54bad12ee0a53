-- The customers who get recommendations: every scored customer of marts.customer_lifetime_value (SPEC 4.4), so
-- that the recommendations, the CLV and the next best actions cover the same customers.
SELECT customer_id FROM marts.customer_lifetime_value ORDER BY customer_id;
