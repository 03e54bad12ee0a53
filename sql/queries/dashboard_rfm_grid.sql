-- Customers: the R x F grid, customers and mean spend per cell.
SELECT r_score, f_score, count(*)::integer AS customers, avg(monetary) AS mean_monetary,
       min(segment) AS segment
FROM marts.rfm_scores
GROUP BY r_score, f_score
ORDER BY r_score, f_score
