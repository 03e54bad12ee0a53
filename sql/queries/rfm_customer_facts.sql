-- Per-customer facts for RFM (SPEC 4.3), from purchase lines only: customer known, quantity > 0,
-- amount > 0 and a description. Scoring happens in pandas (retail_platform/analytics/rfm.py).
SELECT
    customer_id,
    max(invoice_date)          AS last_purchase,
    count(DISTINCT invoice_no) AS frequency,
    sum(amount)                AS monetary
FROM clean.order_lines
WHERE customer_id IS NOT NULL
  AND quantity > 0
  AND amount > 0
  AND description IS NOT NULL
GROUP BY customer_id
ORDER BY customer_id;
