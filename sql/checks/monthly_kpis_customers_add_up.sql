-- marts.monthly_kpis: active = new + existing, and none negative.
SELECT count(*) AS failed_rows, string_agg(month::text, ', ') AS details
FROM marts.monthly_kpis
WHERE active_customers <> new_customers + existing_customers
   OR new_customers < 0 OR existing_customers < 0;
