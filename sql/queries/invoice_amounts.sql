-- Invoice amounts as SPEC 4.1 defines them (sum of positive line amounts), for the distribution chart: from
-- clean.invoice_facts (migration 018), as marts.invoice_amount_stats reads them, not from the lines.
SELECT invoice_no, sum(positive_amount) AS amount
FROM clean.invoice_facts
WHERE positive_lines > 0
GROUP BY invoice_no;
