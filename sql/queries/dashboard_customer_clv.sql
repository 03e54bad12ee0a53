SELECT customer_id, expected_purchases, probability_alive, churn_risk, expected_order_value, clv_12m,
       horizon_days, snapshot_date
FROM marts.customer_lifetime_value
WHERE customer_id = :customer_id
