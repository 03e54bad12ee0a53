-- Retraction, step 2: keep line identity whole for the other loads (SPEC §3, sql/migrations/013_retraction.sql).
-- Per content among the removed lines: the copies the remaining exports need are the most any one of them had
-- (its stored copies plus those it found present); the warehouse now stores fewer when the retracted load
-- stored copies they counted on. The shortfall is made good from the present lines of the export that had the
-- most copies (it has enough: it found present at least what the others stored), in file order: they move
-- into raw.transaction_lines under their own load, whose ledger row then counts them as loaded.
WITH contents AS (
    SELECT DISTINCT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country
    FROM retract_removed
), held AS (
    SELECT x.invoice_no, x.stock_code, x.description, x.quantity, x.invoice_date, x.unit_price, x.customer_id,
           x.country, x.load_id, x.export_no, x.stored
    FROM (
        SELECT t.*, t.line_id >> 32 AS load_id, true AS stored FROM raw.transaction_lines AS t
        WHERE t.invoice_date IN (SELECT c.invoice_date FROM contents AS c)
        UNION ALL
        SELECT p.*, p.line_id >> 32, false FROM raw.present_lines AS p
        WHERE p.invoice_date IN (SELECT c.invoice_date FROM contents AS c)
    ) AS x
    JOIN contents AS c
      ON c.invoice_no = x.invoice_no AND c.stock_code = x.stock_code AND c.quantity = x.quantity
     AND c.invoice_date = x.invoice_date AND c.unit_price = x.unit_price AND c.country = x.country
     AND c.description IS NOT DISTINCT FROM x.description AND c.customer_id IS NOT DISTINCT FROM x.customer_id
    JOIN raw.file_loads AS f ON f.load_id = x.load_id AND f.status = 'loaded'
), per_export AS (
    SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
           load_id, export_no, count(*) AS copies,
           sum(count(*) FILTER (WHERE stored)) OVER (
               PARTITION BY invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id,
                            country
           ) AS stored_copies
    FROM held
    GROUP BY invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
             load_id, export_no
), best AS (
    SELECT DISTINCT ON (invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country)
           *, copies - stored_copies AS shortfall
    FROM per_export
    ORDER BY invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
             copies DESC, load_id, export_no
), chosen AS (
    SELECT p.line_id, b.shortfall,
           row_number() OVER (PARTITION BY b.invoice_no, b.stock_code, b.description, b.quantity, b.invoice_date,
                                           b.unit_price, b.customer_id, b.country
                              ORDER BY p.source_row) AS n
    FROM best AS b
    JOIN raw.present_lines AS p
      ON p.line_id >> 32 = b.load_id AND p.export_no = b.export_no
     AND p.invoice_no = b.invoice_no AND p.stock_code = b.stock_code AND p.quantity = b.quantity
     AND p.invoice_date = b.invoice_date AND p.unit_price = b.unit_price AND p.country = b.country
     AND p.description IS NOT DISTINCT FROM b.description AND p.customer_id IS NOT DISTINCT FROM b.customer_id
    WHERE b.shortfall > 0
), moved AS (
    DELETE FROM raw.present_lines AS p
    USING chosen AS c
    WHERE p.line_id = c.line_id AND c.n <= c.shortfall
    RETURNING p.*
), restored AS (
    INSERT INTO raw.transaction_lines SELECT * FROM moved
    RETURNING line_id >> 32 AS load_id, date_trunc('month', invoice_date)::date AS month
), per_load AS (
    SELECT load_id, count(*) AS lines, array_agg(DISTINCT month) AS months FROM restored GROUP BY load_id
), ledger AS (
    UPDATE raw.file_loads AS f
    SET lines_loaded = f.lines_loaded + l.lines,
        lines_already_present = f.lines_already_present - l.lines,
        months_touched = ARRAY(SELECT DISTINCT m FROM unnest(f.months_touched || l.months) AS m ORDER BY m)
    FROM per_load AS l
    WHERE f.load_id = l.load_id
    RETURNING f.load_id
)
SELECT (SELECT coalesce(sum(lines), 0) FROM per_load) AS lines_restored,
       (SELECT coalesce(array_agg(load_id ORDER BY load_id), '{}') FROM per_load) AS restored_to;
