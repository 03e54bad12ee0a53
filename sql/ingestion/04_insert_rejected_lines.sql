-- Keep every rejected line with its raw text and all its problems (SPEC §3: never silently dropped).
INSERT INTO raw.rejected_lines (load_id, file_name, source_export, source_row, column_name, raw_text, reason)
SELECT
    :load_id,
    :file_name,
    (CAST(:export_names AS text[]))[c.export_no + 1],
    c.source_row,
    CASE WHEN problems[1] ~ '^[a-z_]+: ' THEN split_part(problems[1], ':', 1) END,
    coalesce(c.raw_text, concat_ws(',',
        raw.csv_field(c.invoice_no), raw.csv_field(c.stock_code), raw.csv_field(c.description_text),
        raw.csv_field(c.quantity_text), raw.csv_field(c.date_text), raw.csv_field(c.price_text),
        raw.csv_field(c.customer_text), raw.csv_field(c.country))),
    array_to_string(c.problems, '; ')
FROM load_checked AS c
WHERE cardinality(c.problems) > 0;
