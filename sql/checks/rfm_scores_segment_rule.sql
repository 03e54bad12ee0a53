-- marts.rfm_scores: each customer's segment is the first SPEC 4.3 pattern matching its R and F digits.
SELECT count(*) AS failed_rows, string_agg(customer_id::text || ' (' || rfm_score || ' ' || segment || ')', ', ') AS details
FROM (
    SELECT customer_id, rfm_score, segment,
           CASE
               WHEN rf ~ '^[1-2][1-2]$' THEN 'Hibernating'
               WHEN rf ~ '^[1-2][3-4]$' THEN 'At Risk'
               WHEN rf ~ '^[1-2]5$' THEN 'Can''t Lose'
               WHEN rf ~ '^3[1-2]$' THEN 'About to Sleep'
               WHEN rf ~ '^33$' THEN 'Need Attention'
               WHEN rf ~ '^[3-4][4-5]$' THEN 'Loyal Customers'
               WHEN rf ~ '^41$' THEN 'Promising'
               WHEN rf ~ '^51$' THEN 'New Customers'
               WHEN rf ~ '^[4-5][2-3]$' THEN 'Potential Loyalists'
               WHEN rf ~ '^5[4-5]$' THEN 'Champions'
           END AS expected
    FROM (SELECT *, r_score::text || f_score::text AS rf FROM marts.rfm_scores) AS s
) AS checked
WHERE segment IS DISTINCT FROM expected;
