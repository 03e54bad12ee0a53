-- A file rejected for too many bad lines keeps nothing in the warehouse: its loaded lines go again, and with
-- them the record of its lines found present. Nothing is lost (SPEC §3): those lines, valid themselves, join
-- its invalid ones in raw.rejected_lines, their text rebuilt from their values, with the file's reason.
WITH removed AS (
    DELETE FROM raw.transaction_lines WHERE line_id >> 32 = :load_id RETURNING *
), present AS (
    DELETE FROM raw.present_lines WHERE line_id >> 32 = :load_id RETURNING *
), lines AS (
    SELECT * FROM removed UNION ALL SELECT * FROM present
)
INSERT INTO raw.rejected_lines (load_id, file_name, source_export, source_row, column_name, raw_text, reason)
SELECT f.load_id, f.file_name, e.export_name, l.source_row, NULL,
       concat_ws(',', raw.csv_field(l.invoice_no), raw.csv_field(l.stock_code), raw.csv_field(l.description),
                 l.quantity::text, l.invoice_date::text, l.unit_price::text, l.customer_id::text,
                 raw.csv_field(l.country)),
       format('file rejected as a whole: %s of its lines are invalid, above the share the load accepts '
              '(this line itself was valid)',
              (SELECT count(*) FROM raw.rejected_lines AS r WHERE r.load_id = :load_id))
FROM lines AS l
JOIN raw.file_loads AS f ON f.load_id = l.line_id >> 32
JOIN raw.file_exports AS e ON e.load_id = f.load_id AND e.export_no = l.export_no;
