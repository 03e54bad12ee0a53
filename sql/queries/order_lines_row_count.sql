-- clean.order_lines' row count for the UI's metadata, from clean.invoice_facts, which the clean/order_lines
-- asset builds from the same lines in the same transaction (each line is counted in exactly one fact row):
-- 40 ms where count(*) over 10,673,710 lines takes 0.6 s of every day's refresh.
SELECT coalesce(sum(lines), 0) FROM clean.invoice_facts;
