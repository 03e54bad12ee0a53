-- marts.customer_lifetime_value: the BTYD inputs are consistent (no repeat purchase: recency and monetary 0;
-- recency <= t) and the predictions are numbers in range (probabilities in 0..1, expected purchases, order
-- value and CLV positive and finite).
SELECT
    count(*) AS failed_rows,
    format('%s customers with inconsistent inputs or out-of-range predictions; first: %s',
           count(*), min(customer_id)) AS details
FROM marts.customer_lifetime_value
WHERE (frequency = 0 AND (recency <> 0 OR monetary <> 0))
   OR (frequency > 0 AND monetary <= 0)
   OR recency > t
   OR NOT (probability_alive BETWEEN 0 AND 1)
   OR NOT (churn_risk BETWEEN 0 AND 1)
   OR NOT (expected_purchases >= 0 AND expected_purchases < 'infinity')
   OR NOT (expected_order_value > 0 AND expected_order_value < 'infinity')
   OR NOT (clv_12m >= 0 AND clv_12m < 'infinity');
