-- Per-customer facts for RFM (SPEC 4.3), from purchase lines only: customer known, quantity > 0,
-- amount > 0 and a description. Scoring happens in pandas (retail_platform/analytics/rfm.py).
--
-- Read from clean.invoice_facts (migration 018), not the lines: its purchase_lines, purchase_amount and
-- last_purchase are those of the invoice's purchase lines (clean.purchase_lines) per month, customer and
-- country. Its rows are first grouped per customer and invoice (an invoice in two months or countries is one
-- invoice), then per customer: the number of groups is the number of distinct invoices. Same facts, same types
-- as from the lines.
SELECT
    customer_id,
    max(last_purchase) AS last_purchase,
    count(*)           AS frequency,
    sum(monetary)      AS monetary
FROM (
    SELECT customer_id, invoice_no, max(last_purchase) AS last_purchase, sum(purchase_amount) AS monetary
    FROM clean.invoice_facts
    WHERE purchase_lines > 0
    GROUP BY customer_id, invoice_no
) AS per_invoice
GROUP BY customer_id
ORDER BY customer_id;
