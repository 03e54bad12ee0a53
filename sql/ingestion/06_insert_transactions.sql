-- Exactly-once insert of a block of typed lines (load_batch) of one export (SPEC §3), for the blocks that
-- cannot simply be COPYed into raw.transactions: some of their lines are already in the warehouse, or have
-- identical copies in earlier blocks of the same export.
--
-- load_batch.occurrence numbers identical lines within the block; the copies in earlier blocks of the export
-- come first: they are this export's rows in raw.transactions (inserted by this load) and in load_present
-- (already in the warehouse), numbered 1..n, so n is added. Only lines of the invoices in load_suspects can
-- have such copies. Lines whose identity is in the warehouse are "already present" and recorded in
-- load_present. One statement: every part sees the warehouse as it was before the insert.
WITH numbered AS (
    SELECT b.*,
           b.occurrence + CASE WHEN b.invoice_no IN (SELECT s.invoice_no FROM load_suspects AS s) THEN greatest(
               coalesce((SELECT max(t.occurrence) FROM raw.transactions AS t
                         WHERE t.line_hash = b.line_hash AND t.load_id = :load_id
                           AND t.source_export = :export_name), 0),
               coalesce((SELECT max(p.occurrence) FROM load_present AS p
                         WHERE p.line_hash = b.line_hash AND p.export_no = :export_no), 0)
           ) ELSE 0 END AS identity_occurrence
    FROM load_batch AS b
), checked AS (
    SELECT n.*,
           EXISTS (SELECT 1 FROM raw.transactions AS t
                   WHERE t.line_hash = n.line_hash AND t.occurrence = n.identity_occurrence) AS present
    FROM numbered AS n
), inserted AS (
    INSERT INTO raw.transactions (
        invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
        line_hash, occurrence, source_file, source_export, source_row, load_id
    )
    SELECT c.invoice_no, c.stock_code, c.description, c.quantity, c.invoice_date, c.unit_price, c.customer_id,
           c.country, c.line_hash, c.identity_occurrence, c.source_file, c.source_export, c.source_row,
           c.load_id
    FROM checked AS c
    WHERE NOT c.present
    ORDER BY c.line_hash, c.identity_occurrence
    RETURNING 1
), recorded AS (
    INSERT INTO load_present (export_no, line_hash, occurrence)
    SELECT :export_no, c.line_hash, c.identity_occurrence FROM checked AS c WHERE c.present
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS lines_loaded, (SELECT count(*) FROM recorded) AS lines_present;
