-- Working tables of one file's load, dropped at commit (temporary: never WAL-logged, invisible to others).
--
-- load_stage:   a block of lines exactly as read (text), for the lines the loader could not type itself;
-- load_batch:   a block of typed lines with their identity, shaped like the COPY into raw.transactions;
-- load_present: identities of this load's lines that were already in the warehouse, per export (the next
--               copies of such a line in the same export are numbered after them);
-- load_suspects: the invoices of a block that also appear in earlier blocks of the export: only their lines
--               can have identical copies in earlier blocks (identical lines share their invoice).
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
    invoice_no    text,
    stock_code    text,
    description   text,
    quantity      integer,
    invoice_date  timestamp,
    unit_price    numeric,
    customer_id   integer,
    country       text,
    line_hash     uuid,
    occurrence    integer,
    source_file   text,
    source_export text,
    source_row    bigint,
    load_id       bigint
) ON COMMIT DROP;

CREATE TEMP TABLE load_present (
    export_no  integer NOT NULL,
    line_hash  uuid    NOT NULL,
    occurrence integer NOT NULL,
    PRIMARY KEY (line_hash, occurrence, export_no)
) ON COMMIT DROP;

CREATE TEMP TABLE load_suspects (
    invoice_no text NOT NULL
) ON COMMIT DROP;
