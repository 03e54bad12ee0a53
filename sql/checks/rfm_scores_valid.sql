-- marts.rfm_scores: scores within 1..5, rfm_score = the three digits, measures possible (recency >= 0,
-- frequency >= 1, monetary > 0), and the segment one of the ten.
SELECT count(*) AS failed_rows, string_agg(customer_id::text, ', ') AS details
FROM (
    SELECT customer_id FROM marts.rfm_scores
    WHERE r_score NOT BETWEEN 1 AND 5 OR f_score NOT BETWEEN 1 AND 5 OR m_score NOT BETWEEN 1 AND 5
       OR rfm_score IS DISTINCT FROM (r_score::text || f_score::text || m_score::text)
       OR recency_days < 0 OR frequency < 1 OR monetary <= 0
       OR segment NOT IN ('Hibernating', 'At Risk', 'Can''t Lose', 'About to Sleep', 'Need Attention',
                          'Loyal Customers', 'Promising', 'New Customers', 'Potential Loyalists', 'Champions')
    ORDER BY customer_id
    LIMIT 20
) AS bad;
