SELECT count(*)::integer AS customers, sum(clv_12m) AS total_clv_12m, avg(churn_risk) AS mean_churn_risk,
       max(snapshot_date) AS snapshot_date, max(horizon_days) AS horizon_days
FROM marts.customer_lifetime_value
