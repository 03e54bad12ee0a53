-- Products and their popularity (SPEC 4.5): distinct purchase invoices per stock code on the RFM input lines
-- without non-product codes, before :before (the snapshot of the recommendations) and before :cutoff (the
-- calibration end of the time split, for the evaluation), in one pass; and the description written most often
-- for the stock code (the smallest on ties).
--
-- Hash aggregates only (a stock code rarely appears twice on an invoice, so the per-invoice level has about
-- one group per line); the one sort is of the few thousand (stock code, description) pairs.
WITH lines AS MATERIALIZED (
    SELECT stock_code, invoice_no, invoice_date, description
    FROM clean.purchase_lines
    WHERE NOT is_non_product
      AND invoice_date < CAST(:before AS timestamp)
), invoices AS (
    SELECT stock_code, count(*) AS invoices,
           count(*) FILTER (WHERE first_line < CAST(:cutoff AS timestamp)) AS calibration_invoices
    FROM (SELECT stock_code, invoice_no, min(invoice_date) AS first_line FROM lines GROUP BY 1, 2) AS per_invoice
    GROUP BY stock_code
), descriptions AS (
    SELECT DISTINCT ON (stock_code) stock_code, description
    FROM (SELECT stock_code, description, count(*) AS uses FROM lines GROUP BY 1, 2) AS d
    ORDER BY stock_code, uses DESC, description
)
SELECT i.stock_code, d.description, i.invoices, i.calibration_invoices
FROM invoices AS i
JOIN descriptions AS d USING (stock_code)
ORDER BY i.invoices DESC, i.stock_code;
