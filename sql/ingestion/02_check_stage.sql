-- Type every staged value and list what is wrong with each line, naming the column and the value.
--
-- Timestamps: ISO 'YYYY-MM-DD[ |T]HH:MI[:SS[.ffffff]]' (or a date alone) and the US style of the UCI CSV
-- copies 'M/D/YYYY H:MI[:SS]'. The shape is checked with a plain match and the parts are cut with split_part
-- (PostgreSQL's regex captures are too slow for millions of rows); impossible dates (2010-02-30, 24:00)
-- become NULL, hence a rejected line, never an aborted load. "OFFSET 0" keeps each layer a separate step, so
-- that every expression is evaluated once per row instead of being inlined into every use.
--
-- Runs once per block of lines the loader could not type itself (a value in an unusual spelling, a bad line):
-- most blocks never come here (see retail_platform/ingestion/loader.py).
DROP TABLE IF EXISTS load_checked;
CREATE TEMP TABLE load_checked ON COMMIT DROP AS
SELECT
    t.export_no,
    t.source_row,
    t.invoice_no,
    t.stock_code,
    nullif(t.description, '') AS description,
    t.quantity,
    t.invoice_date,
    t.unit_price,
    t.customer_id,
    t.country,
    CASE
        WHEN t.structural_error IS NOT NULL THEN ARRAY[t.structural_error]
        ELSE array_remove(ARRAY[
            CASE WHEN coalesce(trim(t.invoice_no), '') = '' THEN 'invoice_no: missing' END,
            CASE WHEN coalesce(trim(t.stock_code), '') = '' THEN 'stock_code: missing' END,
            CASE WHEN coalesce(trim(t.quantity_text), '') = '' THEN 'quantity: missing'
                 WHEN t.quantity IS NULL
                 THEN format('quantity: %s is not an integer', quote_literal(left(t.quantity_text, 40))) END,
            CASE WHEN coalesce(trim(t.date_text), '') = '' THEN 'invoice_date: missing'
                 WHEN t.invoice_date IS NULL
                 THEN format('invoice_date: %s is not a date and time (YYYY-MM-DD HH:MI[:SS] or M/D/YYYY H:MI)',
                             quote_literal(left(t.date_text, 40))) END,
            CASE WHEN coalesce(trim(t.price_text), '') = '' THEN 'unit_price: missing'
                 WHEN t.unit_price IS NULL
                 THEN format('unit_price: %s is not a number', quote_literal(left(t.price_text, 40))) END,
            CASE WHEN coalesce(trim(t.customer_text), '') <> '' AND t.customer_id IS NULL
                 THEN format('customer_id: %s is not a whole number', quote_literal(left(t.customer_text, 40)))
            END,
            CASE WHEN coalesce(trim(t.country), '') = '' THEN 'country: missing' END
        ], NULL)
    END AS problems,
    t.raw_text,
    t.description AS description_text,
    t.quantity_text,
    t.date_text,
    t.price_text,
    t.customer_text
FROM (
    SELECT
        p.export_no, p.source_row, p.structural_error, p.raw_text, p.invoice_no, p.stock_code, p.description,
        p.country, p.quantity_text, p.date_text, p.price_text, p.customer_text,
        raw.parse_integer(p.quantity_text) AS quantity,
        CASE
            WHEN p.y BETWEEN 1000 AND 9999 AND p.mo BETWEEN 1 AND 12 AND p.hh < 24 AND p.mi < 60 AND p.ss < 60
                 AND p.dd BETWEEN 1 AND CASE
                     WHEN p.mo = 2 THEN CASE WHEN (p.y % 4 = 0 AND p.y % 100 <> 0) OR p.y % 400 = 0
                                             THEN 29 ELSE 28 END
                     ELSE 30 + (p.mo + p.mo / 8) % 2
                 END
                THEN make_timestamp(p.y, p.mo, p.dd, p.hh, p.mi, p.ss::float8)
        END AS invoice_date,
        raw.parse_numeric(p.price_text) AS unit_price,
        raw.parse_integer(p.customer_text) AS customer_id
    FROM (
        SELECT
            d.*,
            CASE d.style WHEN 'iso' THEN split_part(d.date_part, '-', 1)
                         WHEN 'us' THEN split_part(d.date_part, '/', 3) END::int AS y,
            CASE d.style WHEN 'iso' THEN split_part(d.date_part, '-', 2)
                         WHEN 'us' THEN split_part(d.date_part, '/', 1) END::int AS mo,
            CASE d.style WHEN 'iso' THEN split_part(d.date_part, '-', 3)
                         WHEN 'us' THEN split_part(d.date_part, '/', 2) END::int AS dd,
            CASE WHEN d.style IS NOT NULL THEN coalesce(nullif(split_part(d.time_part, ':', 1), ''), '0') END::int AS hh,
            CASE WHEN d.style IS NOT NULL THEN coalesce(nullif(split_part(d.time_part, ':', 2), ''), '0') END::int AS mi,
            CASE WHEN d.style IS NOT NULL THEN coalesce(nullif(split_part(d.time_part, ':', 3), ''), '0') END::numeric AS ss
        FROM (
            SELECT
                n.*,
                CASE
                    WHEN n.date_value ~ '^\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$' THEN 'iso'
                    WHEN n.date_value ~ '^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?$' THEN 'us'
                END AS style,
                split_part(n.date_value, ' ', 1) AS date_part,
                split_part(n.date_value, ' ', 2) AS time_part
            FROM (
                SELECT
                    s.export_no, s.source_row, s.structural_error, s.raw_text, s.invoice_no, s.stock_code,
                    s.description, s.country,
                    s.quantity AS quantity_text,
                    s.invoice_date AS date_text,
                    s.unit_price AS price_text,
                    s.customer_id AS customer_text,
                    replace(trim(s.invoice_date), 'T', ' ') AS date_value
                FROM load_stage AS s
                OFFSET 0
            ) AS n
            OFFSET 0
        ) AS d
        OFFSET 0
    ) AS p
    OFFSET 0
) AS t;
