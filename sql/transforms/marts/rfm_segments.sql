-- marts.rfm_segments: one row for each of the ten segments (zero customers included, so that dashboards
-- always show all ten), with its size, share and mean recency / frequency / monetary.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.rfm_segments;

WITH segments (segment) AS (
    VALUES ('Hibernating'), ('At Risk'), ('Can''t Lose'), ('About to Sleep'), ('Need Attention'),
           ('Loyal Customers'), ('Promising'), ('New Customers'), ('Potential Loyalists'), ('Champions')
), total AS (
    SELECT count(*) AS customers FROM marts.rfm_scores
)
INSERT INTO marts.rfm_segments
SELECT
    s.segment,
    count(r.customer_id),
    coalesce(count(r.customer_id)::numeric / nullif(t.customers, 0), 0),
    avg(r.recency_days),
    avg(r.frequency),
    avg(r.monetary),
    coalesce(sum(r.monetary), 0)
FROM segments AS s
CROSS JOIN total AS t
LEFT JOIN marts.rfm_scores AS r ON r.segment = s.segment
GROUP BY s.segment, t.customers;
