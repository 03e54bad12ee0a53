-- Retraction, step 3: the months the removal changed, for the retraction's ledger row (what the downstream
-- refresh rebuilds): the months of the removed lines, and the new first month of every customer whose first
-- month was among them (that month's new customers change too). One scan of raw.transaction_lines.
WITH customers AS (
    SELECT customer_id, min(date_trunc('month', invoice_date))::date AS removed_first
    FROM retract_removed
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id
), now_first AS (
    SELECT t.customer_id, min(date_trunc('month', t.invoice_date))::date AS first_month
    FROM raw.transaction_lines AS t
    WHERE t.customer_id IN (SELECT customer_id FROM customers)
    GROUP BY t.customer_id
)
SELECT coalesce(array_agg(DISTINCT m.month ORDER BY m.month), '{}') AS months
FROM (
    SELECT date_trunc('month', invoice_date)::date AS month FROM retract_removed
    UNION
    SELECT n.first_month FROM now_first AS n JOIN customers AS c USING (customer_id)
    WHERE n.first_month > c.removed_first
) AS m;
