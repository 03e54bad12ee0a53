-- marts.monthly_kpis: one row per month, first days only, no gap between the first and the last.
SELECT (CASE WHEN count(*) = 0 THEN 0
             ELSE ((extract(year FROM age(max(month), min(month))) * 12
                    + extract(month FROM age(max(month), min(month))) + 1) - count(DISTINCT month))::int
        END)
       + count(*) FILTER (WHERE extract(day FROM month) <> 1) AS failed_rows,
       format('%s rows from %s to %s', count(*), min(month), max(month)) AS details
FROM marts.monthly_kpis;
