-- A customer's invoices, newest first.
SELECT invoice_no, invoice_date, country, is_cancellation, lines, units, amount
FROM marts.customer_invoices
WHERE customer_id = :customer_id
ORDER BY invoice_date DESC, invoice_no DESC
