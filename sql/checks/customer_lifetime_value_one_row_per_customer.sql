-- marts.customer_lifetime_value: exactly the customers with purchase lines (SPEC 4.4: the RFM input lines)
-- before the table's snapshot, once each, all at the same snapshot. An empty mart is the asset saying that
-- no model could be fitted (too few customers; its metadata says why): nothing to check then, and the run
-- goes on (a mart that empties on real data is caught by the row-count-drop check).
WITH snapshot AS (
    SELECT max(snapshot_date) AS at FROM marts.customer_lifetime_value
), expected AS (
    SELECT DISTINCT customer_id FROM clean.purchase_lines
    WHERE invoice_date < coalesce((SELECT at FROM snapshot), 'infinity')
)
SELECT
    (SELECT (count(*) > 0)::int FROM marts.customer_lifetime_value) * (
    (SELECT count(*) FROM expected AS e WHERE NOT EXISTS (SELECT 1 FROM marts.customer_lifetime_value AS c WHERE c.customer_id = e.customer_id))
  + (SELECT count(*) FROM marts.customer_lifetime_value AS c WHERE NOT EXISTS (SELECT 1 FROM expected AS e WHERE e.customer_id = c.customer_id))
  + (SELECT greatest(count(DISTINCT snapshot_date) - 1, 0) FROM marts.customer_lifetime_value)) AS failed_rows,
    format('%s expected customers, %s scored', (SELECT count(*) FROM expected), (SELECT count(*) FROM marts.customer_lifetime_value)) AS details;
