-- marts.monthly_kpis: the months' net sales add up to the clean layer's total, taken from the invoice facts
-- (migration 018, maintained with the lines; the fact tests prove their sums equal the lines'), so that this
-- check reads no line.
SELECT CASE WHEN k.total IS DISTINCT FROM c.total THEN 1 ELSE 0 END AS failed_rows,
       format('monthly sum %s, clean total %s', k.total, c.total) AS details
FROM (SELECT coalesce(sum(net_sales), 0) AS total FROM marts.monthly_kpis) AS k,
     (SELECT coalesce(sum(net_amount), 0) AS total FROM clean.invoice_facts) AS c;
