-- Working tables of one file's load, dropped at commit (temporary: never WAL-logged, invisible to others).
--
-- load_stage:   a block of lines exactly as read (text), for the lines the loader could not type itself;
-- load_batch:   a block of typed lines, shaped like the COPY into raw.transaction_lines;
-- load_present: the lines of the current export that were already in the warehouse (the next copies of such
--               a line in the export are numbered after them; emptied at each export);
CREATE TEMP TABLE load_stage (
    export_no        integer NOT NULL,
    source_row       bigint  NOT NULL,
    structural_error text,
    raw_text         text,
    invoice_no       text,
    stock_code       text,
    description      text,
    quantity         text,
    invoice_date     text,
    unit_price       text,
    customer_id      text,
    country          text
) ON COMMIT DROP;

-- load_batch and load_present take their columns from raw.transaction_lines, so that their definitions stand in
-- one place (sql/migrations/009_narrow_transaction_lines.sql).
CREATE TEMP TABLE load_batch (LIKE raw.transaction_lines) ON COMMIT DROP;

CREATE TEMP TABLE load_present ON COMMIT DROP AS
SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
FROM raw.transaction_lines
WITH NO DATA;
