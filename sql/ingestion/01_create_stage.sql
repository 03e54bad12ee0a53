-- Staging for one file's load: every value as text, exactly as read. Dropped at commit.
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
