-- clean.order_lines for the months of a run: from retail.month_start (inclusive) to retail.month_end
-- (exclusive), first days of months, set by the asset for this transaction (sql_assets.py). The lines of those
-- months are deleted and inserted again from raw.transactions in one transaction: readers see the old month
-- or the new one, and no lock blocks them. Both sides are found through BRIN indexes on the dates
-- (raw.transaction_lines.invoice_date, clean.order_lines.invoice_month), so the cost follows the months, not
-- the history. The flags are those of order_lines.sql (the full rebuild), which this must match line for line.
DELETE FROM clean.order_lines
WHERE invoice_month >= current_setting('retail.month_start')::date
  AND invoice_month < current_setting('retail.month_end')::date;

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
WHERE t.invoice_date >= current_setting('retail.month_start')::timestamp
  AND t.invoice_date < current_setting('retail.month_end')::timestamp;

-- The customer x month fact of those months.
DELETE FROM clean.customer_months
WHERE month >= current_setting('retail.month_start')::date
  AND month < current_setting('retail.month_end')::date;
INSERT INTO clean.customer_months
SELECT customer_id, invoice_month
FROM clean.order_lines
WHERE customer_id IS NOT NULL
  AND invoice_month >= current_setting('retail.month_start')::date
  AND invoice_month < current_setting('retail.month_end')::date
GROUP BY 1, 2;
