-- Per-customer facts for RFM (SPEC 4.3), from purchase lines only: customer known, quantity > 0,
-- amount > 0 and a description. Scoring happens in pandas (retail_platform/analytics/rfm.py).
--
-- The lines are first grouped per customer and invoice (a hash aggregate), then per customer: the number of
-- groups is the number of distinct invoices, without count(DISTINCT ...), which sorts every purchase line
-- (minutes at ten million lines). Same facts, same types.
SELECT
    customer_id,
    max(last_purchase) AS last_purchase,
    count(*)           AS frequency,
    sum(monetary)      AS monetary
FROM (
    SELECT customer_id, invoice_no, max(invoice_date) AS last_purchase, sum(amount) AS monetary
    FROM clean.purchase_lines
    GROUP BY customer_id, invoice_no
) AS per_invoice
GROUP BY customer_id
ORDER BY customer_id;
