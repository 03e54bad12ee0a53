-- clean.order_lines: every loaded line, typed, with its amount and the flags the marts filter on.
-- Cancellations start with 'C', bad-debt adjustments with 'A'; non-product codes are postage, fees,
-- manual entries, samples, tests and gift vouchers (SPEC §2).
TRUNCATE clean.order_lines;

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
    upper(t.invoice_no) LIKE 'C%' AS is_cancellation,
    upper(t.invoice_no) LIKE 'A%' AS is_adjustment,
    (
        t.stock_code IN (
            'POST', 'DOT', 'M', 'm', 'D', 'S', 'B', 'C2', 'C3', 'CRUK', 'PADS', 'ADJUST', 'ADJUST2',
            'AMAZONFEE', 'BANK CHARGES', 'SP1002'
        )
        OR t.stock_code LIKE 'TEST%'
        OR t.stock_code LIKE 'gift\_0001\_%'
        OR t.stock_code LIKE 'DCGS%'
    ) AS is_non_product
FROM raw.transactions AS t;

ANALYZE clean.order_lines;
