-- Retraction, step 1: the load's lines leave raw.transaction_lines (kept in the transaction's retract_removed,
-- created like raw.transaction_lines before), and its record of lines found present goes with them.
WITH removed AS (
    DELETE FROM raw.transaction_lines WHERE line_id >> 32 = :load_id RETURNING *
), present AS (
    DELETE FROM raw.present_lines WHERE line_id >> 32 = :load_id
)
INSERT INTO retract_removed SELECT * FROM removed;
