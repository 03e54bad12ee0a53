-- marts.customer_invoices (the dashboard's customer history) reads the invoice facts instead of the lines, and
-- clean.order_lines loses its customer index. That B-tree took a random leaf for every inserted line: about
-- 1 s of the 3.9 s INSERT of a full refresh at 1,067,371 lines, and a share of every day's refresh at ten
-- million. The facts have about 1 row per 18 lines; their customer index is kept with them, per month.
-- Run at deployment (`retail-platform migrate`): the DROP takes a brief exclusive lock, once.
ALTER TABLE clean.invoice_facts
    ADD COLUMN units bigint,       -- sum(quantity) over every line
    ADD COLUMN first_date timestamp;  -- the earliest invoice_date of its lines

-- A warehouse that already has facts gets the two columns from its lines.
UPDATE clean.invoice_facts AS f
SET units = l.units, first_date = l.first_date
FROM (
    SELECT invoice_month, invoice_no, customer_id, country, sum(quantity) AS units, min(invoice_date) AS first_date
    FROM clean.order_lines
    GROUP BY invoice_month, invoice_no, customer_id, country
) AS l
WHERE l.invoice_month = f.month
  AND l.invoice_no = f.invoice_no
  AND l.customer_id IS NOT DISTINCT FROM f.customer_id
  AND l.country = f.country;

ALTER TABLE clean.invoice_facts
    ALTER COLUMN units SET NOT NULL,
    ALTER COLUMN first_date SET NOT NULL;

CREATE INDEX invoice_facts_customer ON clean.invoice_facts (customer_id) WHERE customer_id IS NOT NULL;

-- The same columns and rows as migration 011's view (a customer's invoice over every month it has lines in).
CREATE OR REPLACE VIEW marts.customer_invoices AS
SELECT customer_id, invoice_no, min(first_date) AS invoice_date, min(country) AS country,
       bool_or(is_cancellation) AS is_cancellation, sum(lines)::integer AS lines, sum(units)::bigint AS units,
       sum(net_amount) AS amount
FROM clean.invoice_facts
WHERE customer_id IS NOT NULL
GROUP BY customer_id, invoice_no;
GRANT SELECT ON marts.customer_invoices TO retail_reader;  -- kept by OR REPLACE; here for a view created anew

DROP INDEX IF EXISTS clean.order_lines_customer;
