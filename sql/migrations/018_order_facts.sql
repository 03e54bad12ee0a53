-- Compact facts for the global marts (issue 12, "Incremental refresh"): invoice_amount_stats, sales_by_country,
-- top_products and the RFM marts read these instead of every line of clean.order_lines. Like
-- clean.customer_months (migration 012) they are partitioned by the grain month: the clean/order_lines asset
-- rebuilds a month's rows of every fact in the same transaction as that month's lines
-- (sql/transforms/clean/order_facts.sql, which takes the month bounds).
--
-- Exactness: every mart must equal what its definition gives on the lines. Sums and counts add up over
-- months; a distinct count is exact only when the thing counted is in the fact's key:
--   - invoice_facts is keyed by (month, invoice_no, customer_id, country): distinct invoices, invoice amounts,
--     distinct customers per country and the RFM frequency are counted over its rows, grouped by invoice_no;
--   - product_months counts distinct invoices per month (an invoice with lines in two months is the rare case
--     the top_products transform corrects from the invoice facts) and keeps the month's distinct customers
--     of the product as an array, so that customers over months are counted exactly.

CREATE TABLE clean.invoice_facts (
    month           date      NOT NULL,
    invoice_no      text      NOT NULL,
    customer_id     integer,
    country         text      NOT NULL,
    is_cancellation boolean   NOT NULL,
    is_adjustment   boolean   NOT NULL,
    lines           integer   NOT NULL,
    net_amount      numeric   NOT NULL,  -- sum(amount) over every line
    positive_lines  integer   NOT NULL,  -- lines with amount > 0 (SPEC 4.1)
    positive_amount numeric   NOT NULL,  -- their sum of amount (0 when none)
    purchase_lines  integer   NOT NULL,  -- RFM input lines (SPEC 4.3, clean.purchase_lines)
    purchase_amount numeric   NOT NULL,  -- their sum of amount (0 when none)
    last_purchase   timestamp,           -- their latest invoice_date (null when none)
    CONSTRAINT invoice_facts_key UNIQUE NULLS NOT DISTINCT (month, invoice_no, customer_id, country)
);
CREATE INDEX invoice_facts_invoice ON clean.invoice_facts (invoice_no);
COMMENT ON TABLE clean.invoice_facts IS
    'One invoice x month x customer x country with lines: counts and sums for the global marts and RFM '
    '(built with clean.order_lines, per month)';

-- Product lines only (the top_products filter): neither a non-product code nor an adjustment invoice.
CREATE TABLE clean.product_months (
    month        date      NOT NULL,
    stock_code   text      NOT NULL,
    lines        integer   NOT NULL,
    units        bigint    NOT NULL,
    net_sales    numeric   NOT NULL,
    invoices     integer   NOT NULL,  -- distinct invoices that are not cancellations, in the month
    customer_ids integer[] NOT NULL,  -- the month's distinct known customers, ascending
    PRIMARY KEY (month, stock_code)
);
CREATE INDEX product_months_stock_code ON clean.product_months (stock_code);
COMMENT ON TABLE clean.product_months IS
    'One product x month with product lines: units, net sales, invoices, customers (built with clean.order_lines)';

CREATE TABLE clean.product_descriptions (
    month       date    NOT NULL,
    stock_code  text    NOT NULL,
    description text    NOT NULL,
    lines       integer NOT NULL,  -- product lines of the month with this description
    PRIMARY KEY (month, stock_code, description)
);
COMMENT ON TABLE clean.product_descriptions IS
    'How often each description is used per product and month (the top_products description: the most used)';

GRANT SELECT ON clean.invoice_facts, clean.product_months, clean.product_descriptions TO retail_reader;

-- A warehouse that already has lines gets its facts now, from clean.order_lines as it stands (the statements of
-- sql/transforms/clean/order_facts.sql for every month), so that the next incremental refresh, which
-- rebuilds only some months, finds the other months' facts in place.
SELECT set_config('retail.month_start', '-infinity', true), set_config('retail.month_end', 'infinity', true);

INSERT INTO clean.invoice_facts (
    month, invoice_no, customer_id, country, is_cancellation, is_adjustment, lines, net_amount,
    positive_lines, positive_amount, purchase_lines, purchase_amount, last_purchase
)
SELECT
    l.invoice_month,
    l.invoice_no,
    l.customer_id,
    l.country,
    l.is_cancellation,
    l.is_adjustment,
    count(*),
    sum(l.amount),
    count(*) FILTER (WHERE l.amount > 0),
    coalesce(sum(l.amount) FILTER (WHERE l.amount > 0), 0),
    count(*) FILTER (WHERE p.purchase),
    coalesce(sum(l.amount) FILTER (WHERE p.purchase), 0),
    max(l.invoice_date) FILTER (WHERE p.purchase)
FROM clean.order_lines AS l
CROSS JOIN LATERAL (
    SELECT l.customer_id IS NOT NULL AND l.quantity > 0 AND l.amount > 0 AND l.description IS NOT NULL
        AS purchase
) AS p
WHERE l.invoice_month >= current_setting('retail.month_start')::date
  AND l.invoice_month < current_setting('retail.month_end')::date
GROUP BY l.invoice_month, l.invoice_no, l.customer_id, l.country, l.is_cancellation, l.is_adjustment;

INSERT INTO clean.product_months (month, stock_code, lines, units, net_sales, invoices, customer_ids)
SELECT
    l.invoice_month,
    l.stock_code,
    count(*),
    sum(l.quantity),
    sum(l.amount),
    count(DISTINCT l.invoice_no) FILTER (WHERE NOT l.is_cancellation),
    coalesce(array_agg(DISTINCT l.customer_id) FILTER (WHERE l.customer_id IS NOT NULL), '{}')
FROM clean.order_lines AS l
WHERE l.invoice_month >= current_setting('retail.month_start')::date
  AND l.invoice_month < current_setting('retail.month_end')::date
  AND NOT l.is_non_product
  AND NOT l.is_adjustment
GROUP BY l.invoice_month, l.stock_code;

INSERT INTO clean.product_descriptions (month, stock_code, description, lines)
SELECT l.invoice_month, l.stock_code, l.description, count(*)
FROM clean.order_lines AS l
WHERE l.invoice_month >= current_setting('retail.month_start')::date
  AND l.invoice_month < current_setting('retail.month_end')::date
  AND NOT l.is_non_product
  AND NOT l.is_adjustment
  AND l.description IS NOT NULL
GROUP BY l.invoice_month, l.stock_code, l.description;
