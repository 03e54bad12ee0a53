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

CREATE TEMP TABLE load_batch (
    line_id      bigint,
    invoice_no   text,
    stock_code   text,
    description  text,
    quantity     integer,
    invoice_date timestamp,
    unit_price   numeric,
    customer_id  integer,
    country      text,
    source_row   bigint,
    load_id      bigint,
    export_no    smallint
) ON COMMIT DROP;

CREATE TEMP TABLE load_present (
    invoice_no   text      NOT NULL,
    stock_code   text      NOT NULL,
    description  text,
    quantity     integer   NOT NULL,
    invoice_date timestamp NOT NULL,
    unit_price   numeric   NOT NULL,
    customer_id  integer,
    country      text      NOT NULL
) ON COMMIT DROP;
