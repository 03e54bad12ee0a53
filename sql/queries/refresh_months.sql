-- The months an incremental refresh rebuilds after the loads :load_ids (README, "Incremental refresh"): from
-- the ledger's months_touched, widened by what truly depends on them:
--   - the month after the last touched one (its growth reads the touched month's net sales);
--   - the old first month of every customer whose new lines are earlier than it (a late line makes the
--     customer new in the earlier month and existing in the old one), read from clean.customer_months as it
--     stands before the refresh; the new lines are found through the BRIN index on invoice_date, month by
--     touched month;
--   - the months between the last month in marts.monthly_kpis and the first touched month (a new month after
--     a gap gets the zero rows between), and up to the first month in marts.monthly_kpis when a touched month
--     is earlier (the zero rows between, and that month's growth, null until then).
-- One row: first_month, last_month (first days; null when the loads touched no month).
WITH touched AS (
    SELECT DISTINCT m.month
    FROM raw.file_loads AS f, unnest(f.months_touched) AS m(month)
    WHERE f.load_id = ANY(CAST(:load_ids AS bigint[]))
), new_customers AS (
    SELECT t.customer_id, min(date_trunc('month', t.invoice_date))::date AS month
    FROM touched AS m
    JOIN raw.transaction_lines AS t
      ON t.invoice_date >= m.month AND t.invoice_date < m.month + interval '1 month'
    WHERE t.line_id >> 32 = ANY(CAST(:load_ids AS bigint[])) AND t.customer_id IS NOT NULL
    GROUP BY t.customer_id
), moved AS (
    SELECT max(old.first_month) AS month
    FROM new_customers AS n
    CROSS JOIN LATERAL (
        SELECT min(c.month) AS first_month FROM clean.customer_months AS c WHERE c.customer_id = n.customer_id
    ) AS old
    WHERE old.first_month > n.month
), gap AS (
    SELECT (max(k.month) + interval '1 month')::date AS month FROM marts.monthly_kpis AS k
), front AS (
    SELECT min(k.month) AS month FROM marts.monthly_kpis AS k
    HAVING min(k.month) > (SELECT min(month) FROM touched)
)
SELECT
    CASE WHEN (SELECT count(*) FROM touched) > 0 THEN
        least((SELECT min(month) FROM touched), coalesce((SELECT month FROM gap), (SELECT min(month) FROM touched)))
    END AS first_month,
    greatest(
        (SELECT (max(month) + interval '1 month')::date FROM touched),
        (SELECT month FROM moved),
        (SELECT month FROM front)
    ) AS last_month;
