SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_score, segment,
       last_purchase, snapshot_date
FROM marts.rfm_scores
WHERE customer_id = :customer_id
