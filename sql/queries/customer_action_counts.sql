-- Customers per next best action, for the asset's metadata in the UI.
SELECT action, count(*) AS customers FROM marts.customer_actions GROUP BY action ORDER BY customers DESC, action;
