-- The notebook: invoice amount statistics, all invoices and without outliers (SPEC 4.1).
SELECT variant, invoices, min_amount, mean_amount, median_amount, mode_amount, max_amount, p85_amount,
       outlier_cutoff
FROM marts.invoice_amount_stats
ORDER BY variant
