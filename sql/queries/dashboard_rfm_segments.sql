-- Customers: the ten segments, largest first.
SELECT segment, customers, share_of_customers, mean_recency_days, mean_frequency, mean_monetary, total_monetary
FROM marts.rfm_segments
ORDER BY customers DESC, segment
