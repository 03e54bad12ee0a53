-- Who bought what, for the recommendations (SPEC 4.5): one row per customer and product (a stock code that is
-- not a non-product code) on the RFM input lines, with the first and the last time they bought it. The time
-- split needs the first purchase: a holdout purchase of a product is "new" when the first one is in the holdout.
SELECT customer_id, stock_code, min(invoice_date) AS first_purchase, max(invoice_date) AS last_purchase
FROM clean.purchase_lines
WHERE NOT is_non_product
GROUP BY customer_id, stock_code;
