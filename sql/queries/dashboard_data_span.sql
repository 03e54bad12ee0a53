-- The first and last trading day loaded (the latest month may be partial).
SELECT min(day) AS first_day, max(day) AS last_day FROM marts.daily_sales
