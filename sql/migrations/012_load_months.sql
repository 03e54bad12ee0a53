-- The months each load touched (issue 12): an incremental refresh after loads rebuilds only the months whose
-- lines changed, so the ledger says which those are. months_touched holds the first day of every calendar
-- month of invoice_date among the lines the load inserted (not those already present, not rejected ones):
-- empty for duplicates, rejected files and loads that found every line present. The loader fills it from the
-- blocks it types (the distinct months of a block's dates) and from the set-based insert's RETURNING, so it
-- costs no scan of the loaded lines.
ALTER TABLE raw.file_loads ADD COLUMN months_touched date[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN raw.file_loads.months_touched IS
    'First days of the calendar months of invoice_date of the lines this load inserted (issue 12)';

-- Loads from before this migration: their months, from their lines (one pass over the table, once).
UPDATE raw.file_loads AS f
SET months_touched = m.months
FROM (
    SELECT load_id, array_agg(DISTINCT date_trunc('month', invoice_date)::date ORDER BY date_trunc('month', invoice_date)::date) AS months
    FROM raw.transaction_lines
    GROUP BY load_id
) AS m
WHERE m.load_id = f.load_id;

-- Monthly partitions (README, "Monthly partitions"): a run over some months deletes and inserts the lines of
-- those months; a BRIN index on invoice_month finds them without reading the other months (lines arrive
-- mostly in date order, so the block ranges stay narrow). Built with the table's other indexes by the full
-- transform.
CREATE INDEX order_lines_invoice_month ON clean.order_lines USING brin (invoice_month) WITH (pages_per_range = 32);

-- A compact fact beside clean.order_lines, maintained by the same asset in the same transaction: the months
-- in which each customer had lines. A customer's first month (new vs existing customers, SPEC 4.2) is the
-- least of their rows, read through the primary key, without scanning their lines.
CREATE TABLE clean.customer_months (
    customer_id integer NOT NULL,
    month       date    NOT NULL,
    PRIMARY KEY (customer_id, month)
);
CREATE INDEX customer_months_month ON clean.customer_months (month);
COMMENT ON TABLE clean.customer_months IS
    'One customer x calendar month with lines (built with clean.order_lines; first months for monthly_kpis)';
INSERT INTO clean.customer_months
SELECT customer_id, invoice_month FROM clean.order_lines WHERE customer_id IS NOT NULL GROUP BY 1, 2;
GRANT SELECT ON clean.customer_months TO retail_reader;
