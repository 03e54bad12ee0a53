SELECT * FROM marts.customer_actions WHERE customer_id = :customer_id
