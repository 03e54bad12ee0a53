-- marts.rfm_segments: the ten segments, each customer in exactly one (counts match rfm_scores per segment
-- and in total; shares sum to 1).
WITH scored AS (SELECT segment, count(*) AS n FROM marts.rfm_scores GROUP BY segment)
SELECT
    abs(10 - (SELECT count(*) FROM marts.rfm_segments))
  + (SELECT count(*) FROM marts.rfm_segments AS g LEFT JOIN scored AS s USING (segment)
      WHERE g.customers <> coalesce(s.n, 0))
  + (SELECT count(*) FROM scored AS s WHERE NOT EXISTS (SELECT 1 FROM marts.rfm_segments AS g WHERE g.segment = s.segment))
  + CASE WHEN (SELECT count(*) FROM marts.rfm_scores) > 0
              AND abs((SELECT sum(share_of_customers) FROM marts.rfm_segments) - 1) > 1e-9 THEN 1 ELSE 0 END
    AS failed_rows,
    format('%s customers in segments, %s scored', (SELECT sum(customers) FROM marts.rfm_segments),
           (SELECT count(*) FROM marts.rfm_scores)) AS details;
