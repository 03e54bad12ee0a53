-- raw.transactions becomes a view over a narrow table, raw.transaction_lines (see "Performance" in README.md).
--
-- The loaded lines used to carry, per line, an md5 identity (line_hash), its copy number (occurrence), the
-- file and export names as text, a load time and a unique B-tree on the identity: PostgreSQL alone needed 2.4
-- to 2.7 times a bare COPY to store them. A line now stores only its eight canonical values, where it came
-- from as numbers (load_id, export_no, source_row) and a line_id. Line identity (SPEC §3) is
-- unchanged: the content plus the copy number among identical lines of an export. It is no longer stored
-- but counted when needed: a line's copies in the warehouse always hold the copy numbers 1..n, n being the
-- most copies any one export had, so "how many identical lines are stored" answers "is this copy present".
-- Identical lines share their invoice_date, so a BRIN index on invoice_date finds the candidates of a block of
-- new lines by reading only the block ranges of its dates (sql/ingestion/06_insert_transactions.sql). The loader
-- summarizes new ranges itself before it reads through the index (autosummarize queues one request per range
-- and drops them beyond a few hundred); VACUUM does it for everything else.

-- One row per export of a loaded file (the file itself, or one sheet of a workbook).
CREATE TABLE raw.file_exports (
    load_id     bigint   NOT NULL REFERENCES raw.file_loads (load_id),
    export_no   smallint NOT NULL CHECK (export_no >= 0),
    export_name text     NOT NULL,
    PRIMARY KEY (load_id, export_no)
);
COMMENT ON TABLE raw.file_exports IS 'The exports of each loaded file: the file, or each sheet of a workbook (SPEC §3)';

CREATE TABLE raw.transaction_lines (
    -- line_id = load_id * 2^32 + the line's position among the lines the load read, assigned by the loader:
    -- unique, in load order and then file order, and free (an identity column's nextval per line cost a
    -- tenth of the load). Lines loaded before this migration keep their numbers, all below 2^32.
    line_id      bigint    NOT NULL,
    invoice_no   text      NOT NULL,
    stock_code   text      NOT NULL,
    description  text,
    quantity     integer   NOT NULL,
    invoice_date timestamp NOT NULL,
    unit_price   numeric   NOT NULL,
    customer_id  integer,
    country      text      NOT NULL,
    -- No foreign keys: the loader writes the ledger, the exports and the lines in one transaction, and a
    -- per-row FK trigger would cost a third of the load. (load_id, export_no, source_row) is unique by
    -- construction (a line of a file is loaded once); line_id too. Neither has an index: no
    -- query looks a line up by them, and keeping a B-tree up to date cost more than the rest of the table.
    load_id      bigint    NOT NULL,
    export_no    smallint  NOT NULL,
    source_row   bigint    NOT NULL
);
CREATE INDEX transaction_lines_invoice_date ON raw.transaction_lines
    USING brin (invoice_date) WITH (pages_per_range = 32);
COMMENT ON TABLE raw.transaction_lines IS
    'One loaded line: the storage of raw.transactions (read the view; line identity is content + copy number)';

INSERT INTO raw.file_exports (load_id, export_no, export_name)
SELECT load_id, (row_number() OVER (PARTITION BY load_id ORDER BY first_line) - 1)::smallint, source_export
FROM (
    SELECT load_id, source_export, min(line_id) AS first_line
    FROM raw.transactions
    GROUP BY load_id, source_export
) AS exports;

INSERT INTO raw.transaction_lines (
    line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country,
    load_id, export_no, source_row
)
SELECT t.line_id, t.invoice_no, t.stock_code, t.description, t.quantity, t.invoice_date, t.unit_price,
       t.customer_id, t.country, t.load_id, e.export_no, t.source_row
FROM raw.transactions AS t
JOIN raw.file_exports AS e ON e.load_id = t.load_id AND e.export_name = t.source_export
ORDER BY t.line_id;

DROP VIEW raw.shop_orders;
DROP TABLE raw.transactions;

-- The contract's table (SPEC §5), for analysts and every transform. The joins are LEFT joins on unique keys,
-- so a query that reads no column of raw.file_loads or raw.file_exports does not join them at all
-- (PostgreSQL removes such joins): clean.order_lines reads raw.transaction_lines at full speed through it.
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
       l.load_id,
       f.finished_at AS loaded_at
FROM raw.transaction_lines AS l
LEFT JOIN raw.file_loads AS f ON f.load_id = l.load_id
LEFT JOIN raw.file_exports AS e ON e.load_id = l.load_id AND e.export_no = l.export_no;
COMMENT ON VIEW raw.transactions IS
    'One loaded line (SPEC §5): canonical columns, source file, export, row, load id and load time';

CREATE VIEW raw.shop_orders AS
SELECT t.*
FROM raw.transactions AS t
JOIN raw.file_loads AS f ON f.load_id = t.load_id
WHERE f.file_format = 'oltp';
COMMENT ON VIEW raw.shop_orders IS 'Lines loaded from the shop''s OLTP database by the incremental extract';
