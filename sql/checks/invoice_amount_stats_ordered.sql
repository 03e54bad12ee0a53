-- marts.invoice_amount_stats: both variants present (when any invoice has a positive amount) and min <= median <= p85 <= max, min <= mean <= max.
SELECT (CASE WHEN EXISTS (SELECT 1 FROM clean.invoice_facts WHERE positive_lines > 0) THEN 2 - count(*) ELSE count(*) END)
     + count(*) FILTER (
           WHERE NOT (min_amount <= median_amount AND median_amount <= p85_amount AND p85_amount <= max_amount
                      AND min_amount <= mean_amount AND mean_amount <= max_amount
                      AND min_amount <= mode_amount AND mode_amount <= max_amount)
       ) AS failed_rows,
       string_agg(format('%s: min %s median %s p85 %s max %s', variant, min_amount, median_amount, p85_amount,
                         max_amount), '; ') AS details
FROM marts.invoice_amount_stats;

