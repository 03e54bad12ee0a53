-- marts.invoice_amount_stats (SPEC 4.1). Invoice amount = sum of amount over the invoice's lines with
-- amount > 0, for invoices that have such a line. Percentiles interpolate linearly (pandas' default);
-- the mode is the most frequent amount, the smallest one on ties (pandas' Series.mode()[0]).
-- "Without outliers" keeps invoices whose amount is at most the 85th percentile of all invoices.
-- Read from clean.invoice_amount_counts (migration 020: how many invoices have each amount), not the lines
-- nor the invoices: with each distinct amount's invoices (n) and those of the smaller amounts (below), the
-- k-th smallest amount (0-based) is the one with below <= k < below + n, and a percentile is what
-- percentile_cont computes, to the bit: the values at floor and ceil of p x (N - 1), interpolated in float8.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.invoice_amount_stats;

WITH amounts AS MATERIALIZED (
    SELECT
        amount,
        invoices AS n,
        (sum(invoices) OVER (ORDER BY amount ROWS UNBOUNDED PRECEDING))::bigint - invoices AS below
    FROM clean.invoice_amount_counts
), cutoff AS MATERIALIZED (
    -- the outlier cutoff: the 85th percentile of all invoices
    SELECT (lo + (pos - k_lo) * (hi - lo))::numeric AS p85
    FROM (
        SELECT
            k.*,
            (SELECT amount::float8 FROM amounts WHERE below <= k.k_lo AND k.k_lo < below + n) AS lo,
            (SELECT amount::float8 FROM amounts WHERE below <= k.k_hi AND k.k_hi < below + n) AS hi
        FROM (SELECT 0.85::float8 * (sum(n) - 1)::float8 AS pos FROM amounts HAVING sum(n) > 0) AS q
        CROSS JOIN LATERAL (SELECT q.pos, floor(q.pos)::bigint AS k_lo, ceil(q.pos)::bigint AS k_hi) AS k
    ) AS x
), variants AS MATERIALIZED (
    -- both variants in one pass: "without outliers" is every amount up to the cutoff
    SELECT v.*, c.p85
    FROM cutoff AS c
    CROSS JOIN LATERAL (
        SELECT
            sum(n)::bigint AS n_all,
            sum(amount * n) AS sum_all,
            max(amount) AS max_all,
            (sum(n) FILTER (WHERE amount <= c.p85))::bigint AS n_kept,
            sum(amount * n) FILTER (WHERE amount <= c.p85) AS sum_kept,
            max(amount) FILTER (WHERE amount <= c.p85) AS max_kept
        FROM amounts
    ) AS s
    CROSS JOIN LATERAL (
        VALUES ('all', s.n_all, s.sum_all, s.max_all), ('without_outliers', s.n_kept, s.sum_kept, s.max_kept)
    ) AS v (variant, invoices, amount_sum, max_amount)
), percentiles AS (
    -- the median and the 85th percentile of each variant: the k-th smallest amount of the variant is the
    -- k-th smallest of all, "without outliers" being the smallest amounts
    SELECT variant, p, (lo + (pos - k_lo) * (hi - lo))::numeric AS value
    FROM (
        SELECT
            k.*,
            (SELECT amount::float8 FROM amounts WHERE below <= k.k_lo AND k.k_lo < below + n) AS lo,
            (SELECT amount::float8 FROM amounts WHERE below <= k.k_hi AND k.k_hi < below + n) AS hi
        FROM variants AS v
        CROSS JOIN (VALUES (0.5::float8), (0.85::float8)) AS p (p)
        CROSS JOIN LATERAL (SELECT p.p * (v.invoices - 1)::float8 AS pos) AS q
        CROSS JOIN LATERAL (
            SELECT v.variant, p.p, q.pos, floor(q.pos)::bigint AS k_lo, ceil(q.pos)::bigint AS k_hi
        ) AS k
    ) AS x
)
INSERT INTO marts.invoice_amount_stats
SELECT
    v.variant,
    v.invoices,
    (SELECT min(amount) FROM amounts),  -- the same for both: the cutoff is at least the smallest amount
    v.amount_sum / v.invoices,  -- what avg() computes: the exact sum over the count
    (SELECT value FROM percentiles AS p WHERE p.variant = v.variant AND p.p = 0.5),
    (SELECT amount FROM amounts WHERE amount <= v.max_amount ORDER BY n DESC, amount LIMIT 1),
    v.max_amount,
    (SELECT value FROM percentiles AS p WHERE p.variant = v.variant AND p.p = 0.85),
    v.p85
FROM variants AS v;
