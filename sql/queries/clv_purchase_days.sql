-- Purchase days for CLV (SPEC 4.4): one row per customer and day with at least one RFM input line (customer
-- known, quantity > 0, amount > 0, a description), with the day's amount. The BTYD summary, the time split and
-- the models work on these rows in pandas (retail_platform/analytics/clv.py): a few rows per customer, whatever
-- the number of lines.
SELECT customer_id, invoice_date::date AS day, sum(amount) AS amount
FROM clean.purchase_lines
GROUP BY customer_id, invoice_date::date
ORDER BY customer_id, day;
