-- Invoice amounts as SPEC 4.1 defines them (sum of positive line amounts), for the distribution chart: each
-- distinct amount with how many invoices have it, from clean.invoice_amount_counts (migration 020), as
-- marts.invoice_amount_stats reads them.
SELECT amount, invoices
FROM clean.invoice_amount_counts
WHERE invoices > 0;
