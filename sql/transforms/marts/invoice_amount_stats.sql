-- marts.invoice_amount_stats (SPEC 4.1). Invoice amount = sum of amount over the invoice's lines with
-- amount > 0, for invoices that have such a line. Percentiles interpolate linearly (pandas' default);
-- the mode is the most frequent amount, the smallest one on ties (pandas' Series.mode()[0]).
-- "Without outliers" keeps invoices whose amount is at most the 85th percentile of all invoices.
-- Read from clean.invoice_facts (migration 018), not the lines: an invoice's positive amount is the sum of its
-- fact rows' (one per month, customer and country it has lines in; almost always one), exactly.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.invoice_amount_stats;

WITH invoices AS (
    SELECT invoice_no, sum(positive_amount) AS amount
    FROM clean.invoice_facts
    WHERE positive_lines > 0
    GROUP BY invoice_no
), cutoff AS (
    SELECT percentile_cont(0.85) WITHIN GROUP (ORDER BY amount::float8)::numeric AS p85 FROM invoices
), variants AS (
    SELECT 'all' AS variant, i.amount FROM invoices AS i
    UNION ALL
    SELECT 'without_outliers', i.amount FROM invoices AS i CROSS JOIN cutoff AS c WHERE i.amount <= c.p85
), modes AS (
    SELECT DISTINCT ON (variant) variant, amount AS mode_amount
    FROM (SELECT variant, amount, count(*) AS n FROM variants GROUP BY variant, amount) AS counted
    ORDER BY variant, n DESC, amount
)
INSERT INTO marts.invoice_amount_stats
SELECT
    v.variant,
    count(*),
    min(v.amount),
    avg(v.amount),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY v.amount::float8)::numeric,
    m.mode_amount,
    max(v.amount),
    percentile_cont(0.85) WITHIN GROUP (ORDER BY v.amount::float8)::numeric,
    c.p85
FROM variants AS v
JOIN modes AS m USING (variant)
CROSS JOIN cutoff AS c
GROUP BY v.variant, m.mode_amount, c.p85;
