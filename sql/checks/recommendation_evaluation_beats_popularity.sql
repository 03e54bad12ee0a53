-- marts.recommendation_evaluation: co-purchase similarity has a higher hit rate at 10 than popularity alone
-- on the holdout (SPEC 4.5). A missing method (no evaluation could be run) fails too. Below 200 evaluated
-- customers the comparison is noise (a sample drop of a few thousand lines has a few dozen): the check then
-- passes, saying it did not judge.
WITH rates AS (
    SELECT max(hit_rate) FILTER (WHERE method = 'similarity') AS similarity,
           max(hit_rate) FILTER (WHERE method = 'popularity') AS popularity,
           count(*) FILTER (WHERE method IN ('similarity', 'popularity')) AS methods,
           coalesce(max(customers), 0) AS customers
    FROM marts.recommendation_evaluation
)
SELECT
    CASE WHEN methods = 2 AND customers < 200 THEN 0 WHEN similarity > popularity THEN 0 ELSE 1 END AS failed_rows,
    CASE WHEN methods = 2 AND customers < 200 THEN format('not judged: %s customers (at least 200 needed); ', customers) ELSE '' END
    || format('hit rate at 10 on %s customers: similarity %s, popularity %s', customers,
              coalesce(round(similarity::numeric, 4)::text, 'none'), coalesce(round(popularity::numeric, 4)::text, 'none')) AS details
FROM rates;
