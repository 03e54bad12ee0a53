-- Trends: per day in a date range, for one country (:country) or, when :country is null, the whole shop.
SELECT day, sum(placed_orders)::integer AS placed_orders, sum(canceled_orders)::integer AS canceled_orders,
       sum(net_sales) AS net_sales
FROM marts.daily_country_sales
WHERE day BETWEEN :first_day AND :last_day
  AND (CAST(:country AS text) IS NULL OR country = CAST(:country AS text))
GROUP BY day
ORDER BY day
