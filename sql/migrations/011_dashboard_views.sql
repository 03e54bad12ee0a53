-- What the dashboard (retail_platform/dashboard/) reads, and nothing more.
--
-- 1. Monitoring readers. The Data health page needs the load ledger (raw) and the open alerts (ops), which
--    analysts' and the web application's roles must not read. Schema `monitoring` holds views of just what
--    the page shows (no raw line text, no webhook errors); role `retail_monitor` (NOLOGIN: grant it to real
--    users) may read them and nothing else. The views belong to the migration's role, so they read raw and ops
--    on its behalf: retail_monitor itself gets no privilege on raw or ops.
-- 2. Drill-down views in `marts` for retail_reader: per day and country, per customer invoice, and products
--    bought together. They are views over clean.order_lines (always as current as the clean layer, no asset to
--    rebuild), each read with a filter (a date range, a country, a customer, a product).

CREATE SCHEMA IF NOT EXISTS monitoring;
REVOKE ALL ON SCHEMA monitoring FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'retail_monitor') THEN
        CREATE ROLE retail_monitor NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA monitoring TO retail_monitor;

CREATE VIEW monitoring.file_loads AS
SELECT load_id, file_name, file_format, size_bytes, exports, lines_read, lines_loaded, lines_already_present,
       lines_rejected, status, error, run_id, started_at, finished_at,
       extract(epoch FROM finished_at - started_at)::numeric(12, 1) AS seconds
FROM raw.file_loads;
COMMENT ON VIEW monitoring.file_loads IS 'One file seen by the loader, with its line accounting (raw.file_loads)';

-- Per file and column: how many lines were rejected and one of the reasons (reasons quote the bad value, so
-- the same column yields many texts).
CREATE VIEW monitoring.rejections AS
SELECT load_id, file_name, coalesce(column_name, '(line)') AS column_name, count(*) AS lines,
       min(reason) AS example_reason, min(source_row) AS first_row
FROM raw.rejected_lines
GROUP BY load_id, file_name, coalesce(column_name, '(line)');
COMMENT ON VIEW monitoring.rejections IS 'Rejected lines per file and column, with an example reason (raw.rejected_lines)';

CREATE VIEW monitoring.open_alerts AS
SELECT alert_id, raised_at, kind, severity, asset_key, check_name, run_id, message, ui_url
FROM ops.alerts
WHERE resolved_at IS NULL;
COMMENT ON VIEW monitoring.open_alerts IS 'Open alerts: failed runs, failing checks, stale assets (ops.alerts)';

GRANT SELECT ON ALL TABLES IN SCHEMA monitoring TO retail_monitor;

-- Sales, orders and cancellations per day and country (the Trends page's country filter; summed over countries
-- it gives the shop's figures per day). Placed and canceled orders are distinct invoices, as in
-- marts.monthly_kpis; an invoice has one date and one country.
CREATE VIEW marts.daily_country_sales AS
WITH invoices AS (
    SELECT invoice_date::date AS day, country, invoice_no, is_cancellation, is_adjustment,
           count(*) AS lines, sum(amount) AS net_sales
    FROM clean.order_lines
    GROUP BY invoice_date::date, country, invoice_no, is_cancellation, is_adjustment
)
SELECT day, country,
       count(*) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment)::integer AS placed_orders,
       count(*) FILTER (WHERE is_cancellation)::integer AS canceled_orders,
       sum(net_sales) AS net_sales,
       sum(lines)::integer AS lines
FROM invoices
GROUP BY day, country;
COMMENT ON VIEW marts.daily_country_sales IS 'Placed and canceled orders and net sales per day and country (all loaded lines)';

-- One invoice of a known customer (the customer page's history); read with customer_id = ..., which uses the
-- index clean.order_lines_customer.
CREATE VIEW marts.customer_invoices AS
SELECT customer_id, invoice_no, min(invoice_date) AS invoice_date, min(country) AS country,
       bool_or(is_cancellation) AS is_cancellation, count(*)::integer AS lines, sum(quantity)::bigint AS units,
       sum(amount) AS amount
FROM clean.order_lines
WHERE customer_id IS NOT NULL
GROUP BY customer_id, invoice_no;
COMMENT ON VIEW marts.customer_invoices IS 'One invoice of a known customer: date, lines, units, amount';

-- Products bought together: for a product, the other products on the same purchase invoices (no
-- cancellations or adjustments, product codes only), with how many invoices hold both and one of the
-- other product's descriptions. Read with stock_code = ...: the filter reaches the scan of `a`, whose few
-- lines are then the hash side of one join with every purchase line (nothing is aggregated per invoice).
CREATE VIEW marts.products_bought_together AS
SELECT a.stock_code, b.stock_code AS other_stock_code, min(b.description) AS description,
       count(DISTINCT a.invoice_no)::integer AS invoices_together
FROM clean.order_lines AS a
JOIN clean.order_lines AS b ON b.invoice_no = a.invoice_no AND b.stock_code <> a.stock_code
WHERE NOT a.is_cancellation AND NOT a.is_adjustment AND NOT a.is_non_product AND a.quantity > 0
  AND NOT b.is_cancellation AND NOT b.is_adjustment AND NOT b.is_non_product AND b.quantity > 0
GROUP BY a.stock_code, b.stock_code;
COMMENT ON VIEW marts.products_bought_together IS 'Pairs of products on the same purchase invoice: how many invoices hold both';

GRANT SELECT ON marts.daily_country_sales, marts.customer_invoices, marts.products_bought_together
    TO retail_reader;
