-- clean.purchase_lines: the RFM input lines of SPEC 4.3 (customer known, quantity > 0, amount > 0, a
-- description), the one definition that RFM, CLV (SPEC 4.4), the recommendations (SPEC 4.5) and their checks
-- read. A plain view: PostgreSQL inlines it, so a query on it plans as on clean.order_lines with the filter.
-- Grain: one cleaned purchase line; the columns are those of clean.order_lines.
CREATE VIEW clean.purchase_lines AS
SELECT *
FROM clean.order_lines
WHERE customer_id IS NOT NULL
  AND quantity > 0
  AND amount > 0
  AND description IS NOT NULL;

COMMENT ON VIEW clean.purchase_lines IS
    'The RFM input lines (SPEC 4.3): customer known, quantity > 0, amount > 0, a description. Grain: one line.';

GRANT SELECT ON clean.purchase_lines TO retail_reader;
