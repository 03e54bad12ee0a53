-- clean.order_lines: every loaded line of the months from :month_start (inclusive) to :month_end (exclusive),
-- typed, with its amount and the flags the marts filter on. Cancellations start with 'C', bad-debt adjustments
-- with 'A'; non-product codes are postage, fees, manual entries, samples, tests and gift vouchers (SPEC §2).
--
-- The one transform of the table: a run over some months passes their first days, a full refresh the range
-- of every month that holds data ('-infinity' .. 'infinity', see sql_assets.py). The lines of those months are
-- deleted and inserted again from raw.transactions in the refresh's one transaction: readers keep reading the
-- old rows (MVCC) until the commit and then see the new ones, never half a table, and nothing here takes a lock
-- that waits for a reader (a TRUNCATE would: it needs ACCESS EXCLUSIVE). Both sides are found through indexes
-- on the dates (raw.transaction_lines.invoice_date: BRIN, raw is appended in date order; clean.order_lines
-- invoice_month: B-tree, migration 019, since its months are rewritten in place), so the cost of a month run
-- follows the months, not the history.
DELETE FROM clean.order_lines
WHERE invoice_month >= CAST(:month_start AS date)
  AND invoice_month < CAST(:month_end AS date);

INSERT INTO clean.order_lines (
    line_id, invoice_no, stock_code, description, quantity, invoice_date, invoice_month, unit_price, amount,
    customer_id, country, is_cancellation, is_adjustment, is_non_product
)
SELECT
    t.line_id,
    t.invoice_no,
    t.stock_code,
    t.description,
    t.quantity,
    t.invoice_date,
    date_trunc('month', t.invoice_date)::date AS invoice_month,
    t.unit_price,
    t.quantity * t.unit_price AS amount,
    t.customer_id,
    t.country,
    -- 'C...' or 'c...': two prefix LIKEs compare bytes; upper() would build a new string for every line
    (t.invoice_no LIKE 'C%' OR t.invoice_no LIKE 'c%') AS is_cancellation,
    (t.invoice_no LIKE 'A%' OR t.invoice_no LIKE 'a%') AS is_adjustment,
    (
        t.stock_code IN (
            'POST', 'DOT', 'M', 'm', 'D', 'S', 'B', 'C2', 'C3', 'CRUK', 'PADS', 'ADJUST', 'ADJUST2',
            'AMAZONFEE', 'BANK CHARGES', 'SP1002'
        )
        OR t.stock_code LIKE 'TEST%'
        OR t.stock_code LIKE 'gift\_0001\_%'
        OR t.stock_code LIKE 'DCGS%'
    ) AS is_non_product
FROM raw.transactions AS t
WHERE t.invoice_date >= CAST(:month_start AS timestamp)
  AND t.invoice_date < CAST(:month_end AS timestamp);

-- The customer x month fact (migration 012) of those months, rebuilt with the lines it summarizes.
DELETE FROM clean.customer_months
WHERE month >= CAST(:month_start AS date)
  AND month < CAST(:month_end AS date);

-- Aggregated by CREATE TABLE AS, which runs on parallel workers (an INSERT ... SELECT runs on one core).
CREATE TEMPORARY TABLE staged_customer_months ON COMMIT DROP AS
SELECT customer_id, invoice_month
FROM clean.order_lines
WHERE customer_id IS NOT NULL
  AND invoice_month >= CAST(:month_start AS date)
  AND invoice_month < CAST(:month_end AS date)
GROUP BY 1, 2;

INSERT INTO clean.customer_months TABLE staged_customer_months;

-- Fresh planner statistics for the marts built next from these lines (a full refresh replaces every row).
-- ANALYZE samples the table and takes a SHARE UPDATE EXCLUSIVE lock, which readers never wait for. A month
-- run of one or two months skips these two statements (sql_assets.run_transform): it changes a few percent of
-- the rows.
ANALYZE clean.order_lines;
ANALYZE clean.customer_months;
