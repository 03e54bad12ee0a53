-- marts.rfm_scores: exactly the customers with purchase lines (SPEC 4.3), once each. Those customers are read
-- from clean.invoice_facts (migration 018: its purchase_lines count the clean.purchase_lines of each invoice),
-- not from every line.
WITH expected AS (
    SELECT DISTINCT customer_id FROM clean.invoice_facts WHERE purchase_lines > 0
)
SELECT
    (SELECT count(*) FROM expected AS e WHERE NOT EXISTS (SELECT 1 FROM marts.rfm_scores AS r WHERE r.customer_id = e.customer_id))
  + (SELECT count(*) FROM marts.rfm_scores AS r WHERE NOT EXISTS (SELECT 1 FROM expected AS e WHERE e.customer_id = r.customer_id))
  + (SELECT count(*) - count(DISTINCT customer_id) FROM marts.rfm_scores) AS failed_rows,
    format('%s expected customers, %s scored', (SELECT count(*) FROM expected), (SELECT count(*) FROM marts.rfm_scores)) AS details;
