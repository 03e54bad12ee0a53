-- marts.clv_evaluation_deciles: deciles 1..n without gaps (n = 10, fewer only with fewer customers), sizes
-- differing by at most one, adding up to the evaluation's customers.
WITH d AS (
    SELECT count(*) AS deciles, coalesce(sum(customers), 0) AS customers, max(decile) AS last,
           coalesce(max(customers) - min(customers), 0) AS spread
    FROM marts.clv_evaluation_deciles
), e AS (
    SELECT coalesce(max(customers), 0) AS customers FROM marts.clv_model_evaluation
)
SELECT
    (CASE WHEN d.customers <> e.customers THEN 1 ELSE 0 END)
  + (CASE WHEN d.deciles <> least(10, e.customers) THEN 1 ELSE 0 END)
  + (CASE WHEN d.deciles > 0 AND d.last <> d.deciles THEN 1 ELSE 0 END)
  + (CASE WHEN d.spread > 1 THEN 1 ELSE 0 END) AS failed_rows,
    format('%s deciles of %s customers (evaluation: %s), sizes differ by %s', d.deciles, d.customers, e.customers, d.spread) AS details
FROM d CROSS JOIN e;
