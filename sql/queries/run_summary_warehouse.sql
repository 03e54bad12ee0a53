-- What the warehouse holds after a run: months, their span and net sales, and the lines loaded.
SELECT count(*) AS months, min(month) AS first_month, max(month) AS last_month, sum(net_sales) AS net_sales,
       (SELECT count(*) FROM raw.transactions) AS lines
FROM marts.monthly_kpis
