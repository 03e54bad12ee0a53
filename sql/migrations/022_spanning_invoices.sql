-- clean.spanning_invoices: the invoices (neither cancellations nor adjustments) with facts in more than one
-- month, one row per invoice x month. marts.top_products corrects its sum of the months' distinct invoices
-- for them, and used to find them by grouping every invoice fact by invoice on each refresh (0.9 s at
-- 10,673,710 lines, for none found in the generated data). The clean/order_lines asset keeps this table in
-- the same transaction as the months it rebuilds (sql/transforms/clean/order_facts.sql): the invoices of
-- those months, before and after, are looked up again; no other invoice can start or stop spanning.
CREATE TABLE clean.spanning_invoices (
    invoice_no text NOT NULL,
    month      date NOT NULL,
    PRIMARY KEY (invoice_no, month)
);
COMMENT ON TABLE clean.spanning_invoices IS
    'One invoice (not a cancellation or adjustment) x month, for the invoices with facts in several months';
GRANT SELECT ON clean.spanning_invoices TO retail_reader;

-- A warehouse that already has facts gets its spanning invoices now.
INSERT INTO clean.spanning_invoices (invoice_no, month)
SELECT DISTINCT f.invoice_no, f.month
FROM clean.invoice_facts AS f
WHERE NOT f.is_cancellation AND NOT f.is_adjustment
  AND f.invoice_no IN (
      SELECT invoice_no
      FROM clean.invoice_facts
      WHERE NOT is_cancellation AND NOT is_adjustment
      GROUP BY invoice_no
      HAVING min(month) < max(month)
  );
