-- The shop's transactional (OLTP) database: what the web application writes when a customer orders, and what
-- the warehouse extracts incrementally (retail_platform/oltp/extract.py). Applied to RETAIL_OLTP_URL (default:
-- the database <warehouse database>_shop on the warehouse's server) by `retail-platform simulate-shop`.
--
-- Orders follow the shop's accounting, as in the real exports: an order is never edited after it is placed;
-- a cancellation is a new order of kind 'cancellation' (invoice 'C...', negative quantities) that points at
-- the order it cancels, and the cancelled order's status changes. Lines may be added to an order but never
-- changed or deleted (a trigger enforces it), so a line extracted once never changes meaning in the
-- warehouse, whose line identity is the line's content.
--
-- Change tracking: every row carries change_xid, the id of the transaction that last wrote it. The extract
-- keeps the database snapshot of its previous run (pg_current_snapshot) as its high-water mark and reads the
-- rows whose transaction was not yet visible in it. Unlike a timestamp watermark this never misses a row of
-- a transaction that started before the previous extract and committed after it.
CREATE SCHEMA IF NOT EXISTS shop;

-- Invoice numbers of the shop's own orders; far above the historical exports' numbers (489434..581587), so
-- an invoice from the shop never merges with one from a file.
CREATE SEQUENCE shop.invoice_no_seq START WITH 700001;

CREATE TABLE shop.orders (
    order_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_no       text        NOT NULL UNIQUE,
    kind             text        NOT NULL CHECK (kind IN ('sale', 'cancellation', 'adjustment')),
    customer_id      integer,                              -- NULL: guest checkout
    country          text        NOT NULL,
    placed_at        timestamp   NOT NULL,                 -- shop-local time, as InvoiceDate in the exports
    status           text        NOT NULL DEFAULT 'placed'
                                 CHECK (status IN ('placed', 'partially_cancelled', 'cancelled')),
    cancels_order_id bigint      REFERENCES shop.orders (order_id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    change_xid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((kind = 'cancellation') = (invoice_no LIKE 'C%')),
    CHECK (kind <> 'cancellation' OR cancels_order_id IS NOT NULL)
);
CREATE INDEX orders_change_xid ON shop.orders (change_xid);
CREATE INDEX orders_placed_at ON shop.orders (placed_at);

CREATE TABLE shop.order_lines (
    line_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint      NOT NULL REFERENCES shop.orders (order_id),
    line_no     integer     NOT NULL CHECK (line_no >= 1),
    stock_code  text        NOT NULL,
    description text,
    quantity    integer     NOT NULL CHECK (quantity <> 0),
    unit_price  numeric(12, 3) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    change_xid  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (order_id, line_no)
);
CREATE INDEX order_lines_change_xid ON shop.order_lines (change_xid);

-- Every update stamps the row with its transaction; the content of a placed order never changes.
CREATE FUNCTION shop.stamp_order_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.invoice_no, NEW.kind, NEW.customer_id, NEW.country, NEW.placed_at)
       IS DISTINCT FROM (OLD.invoice_no, OLD.kind, OLD.customer_id, OLD.country, OLD.placed_at) THEN
        RAISE EXCEPTION 'order % is placed: its invoice, customer, country and time never change (cancel it instead)',
            OLD.invoice_no;
    END IF;
    NEW.updated_at := now();
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_stamp_change BEFORE UPDATE ON shop.orders
    FOR EACH ROW EXECUTE FUNCTION shop.stamp_order_change();

CREATE FUNCTION shop.forbid_line_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order lines are never changed or deleted once written (line %): cancel them with a cancellation order',
        OLD.line_id;
END
$$;
CREATE TRIGGER order_lines_immutable BEFORE UPDATE OR DELETE ON shop.order_lines
    FOR EACH ROW EXECUTE FUNCTION shop.forbid_line_change();
