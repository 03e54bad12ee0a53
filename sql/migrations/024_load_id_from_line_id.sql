-- raw.transaction_lines and raw.present_lines lose their load_id column: a line's load is its line_id's high
-- half (line_id = load_id * 2^32 + the line's position among the lines its load read, migration 009), so the
-- column repeated what the line id already says. Every load paid for it: the binary COPY of 1,067,371 lines
-- with the column took 1.34 s, without it 1.11 s (medians of 5, embedded PostgreSQL 18; README, *Performance*).
-- raw.transactions still shows load_id, computed (line_id >> 32), and still joins the ledger on it.
--
-- Lines loaded before migration 009 were numbered by an identity column (below 2^32): they are numbered again,
-- load_id * 2^32 plus their rank in their load, in the order they had, here and in clean.order_lines, which
-- holds the same ids. Both tables are rebuilt rather than given a dropped column (a dropped column still costs
-- every new row a null bitmap). Run at deployment (`retail-platform migrate`): it rewrites raw once, about
-- as long as a load of the same lines.

CREATE TEMPORARY TABLE renumbered_lines ON COMMIT DROP AS
SELECT line_id AS old_id,
       (load_id << 32) + row_number() OVER (PARTITION BY load_id ORDER BY line_id) - 1 AS new_id
FROM raw.transaction_lines
WHERE line_id < 4294967296;

UPDATE clean.order_lines AS c
SET line_id = r.new_id
FROM renumbered_lines AS r
WHERE c.line_id = r.old_id;

CREATE TABLE raw.transaction_lines_024 (
    -- line_id = load_id * 2^32 + the line's position among the lines the load read (migration 009)
    line_id      bigint    NOT NULL,
    invoice_no   text      NOT NULL,
    stock_code   text      NOT NULL,
    description  text,
    quantity     integer   NOT NULL,
    invoice_date timestamp NOT NULL,
    unit_price   numeric   NOT NULL,
    customer_id  integer,
    country      text      NOT NULL,
    export_no    smallint  NOT NULL,
    source_row   bigint    NOT NULL
);

INSERT INTO raw.transaction_lines_024 (
    line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    export_no, source_row
)
SELECT coalesce(r.new_id, l.line_id), l.invoice_no, l.stock_code, l.description, l.quantity, l.invoice_date,
       l.unit_price, l.customer_id, l.country, l.export_no, l.source_row
FROM raw.transaction_lines AS l
LEFT JOIN renumbered_lines AS r ON r.old_id = l.line_id
ORDER BY coalesce(r.new_id, l.line_id);

CREATE TABLE raw.present_lines_024 (LIKE raw.transaction_lines_024);

INSERT INTO raw.present_lines_024 (
    line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    export_no, source_row
)
SELECT line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
       export_no, source_row
FROM raw.present_lines
ORDER BY line_id;

DROP VIEW raw.shop_orders;
DROP VIEW raw.transactions;
DROP TABLE raw.transaction_lines;
DROP TABLE raw.present_lines;
ALTER TABLE raw.transaction_lines_024 RENAME TO transaction_lines;
ALTER TABLE raw.present_lines_024 RENAME TO present_lines;

CREATE INDEX transaction_lines_invoice_date ON raw.transaction_lines
    USING brin (invoice_date) WITH (pages_per_range = 32);
CREATE INDEX present_lines_invoice_date ON raw.present_lines
    USING brin (invoice_date) WITH (pages_per_range = 32);
COMMENT ON TABLE raw.transaction_lines IS
    'One loaded line: the storage of raw.transactions (read the view; line identity is content + copy number; '
    'the load is line_id >> 32)';
COMMENT ON TABLE raw.present_lines IS
    'Lines a load found already present (identical copies stored by other exports): what a retraction restores';

-- As in migration 009, with load_id computed: the joins are still LEFT joins on unique keys, which PostgreSQL
-- removes from a query that reads none of their columns.
CREATE VIEW raw.transactions AS
SELECT l.line_id,
       l.invoice_no,
       l.stock_code,
       l.description,
       l.quantity,
       l.invoice_date,
       l.unit_price,
       l.customer_id,
       l.country,
       f.file_name AS source_file,
       e.export_name AS source_export,
       l.source_row,
       l.line_id >> 32 AS load_id,
       f.finished_at AS loaded_at
FROM raw.transaction_lines AS l
LEFT JOIN raw.file_loads AS f ON f.load_id = l.line_id >> 32
LEFT JOIN raw.file_exports AS e ON e.load_id = l.line_id >> 32 AND e.export_no = l.export_no;
COMMENT ON VIEW raw.transactions IS
    'One loaded line (SPEC §5): canonical columns, source file, export, row, load id and load time';

CREATE VIEW raw.shop_orders AS
SELECT t.*
FROM raw.transactions AS t
JOIN raw.file_loads AS f ON f.load_id = t.load_id
WHERE f.file_format = 'oltp';
COMMENT ON VIEW raw.shop_orders IS 'Lines loaded from the shop''s OLTP database by the incremental extract';
