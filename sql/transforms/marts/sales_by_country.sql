-- marts.sales_by_country: one row per country, over all loaded lines; share of the shop's net sales.
-- Read from clean.invoice_facts (migration 018: one invoice x month x customer x country), not the lines: sums
-- add up over its rows; distinct invoices and customers are counted over its rows, which is exact because
-- both are in the fact's key. Whether an invoice is a cancellation or an adjustment depends on its number
-- alone, so filtering its rows by the flags is exact.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.sales_by_country;

INSERT INTO marts.sales_by_country
SELECT country, invoices, customers, net_sales, net_sales / nullif(sum(net_sales) OVER (), 0), canceled_orders
FROM (
    SELECT
        country,
        count(DISTINCT invoice_no) FILTER (WHERE NOT is_cancellation AND NOT is_adjustment) AS invoices,
        count(DISTINCT customer_id) AS customers,  -- guests (no customer id) are not counted
        sum(net_amount) AS net_sales,
        count(DISTINCT invoice_no) FILTER (WHERE is_cancellation) AS canceled_orders
    FROM clean.invoice_facts
    GROUP BY country
) AS per_country;
