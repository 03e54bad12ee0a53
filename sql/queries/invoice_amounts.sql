-- Invoice amounts as SPEC 4.1 defines them (sum of positive line amounts), for the distribution chart.
SELECT invoice_no, sum(amount) AS amount
FROM clean.order_lines
WHERE amount > 0
GROUP BY invoice_no;
