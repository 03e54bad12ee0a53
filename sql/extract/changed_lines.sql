-- The lines of the changed orders (the placeholder takes changed_orders_all.sql or changed_orders_since.sql),
-- values in the loader's text spellings.
WITH changed AS ({changed})
SELECT l.line_id, o.order_id, o.invoice_no, l.stock_code, l.description, l.quantity::text AS quantity,
       to_char(o.placed_at, 'YYYY-MM-DD HH24:MI:SS') AS invoice_date, l.unit_price::text AS unit_price,
       o.customer_id::text AS customer_id, o.country, greatest(o.updated_at, l.created_at) AS changed_at
FROM changed AS c
JOIN shop.orders AS o ON o.order_id = c.order_id
JOIN shop.order_lines AS l ON l.order_id = o.order_id
ORDER BY l.line_id
