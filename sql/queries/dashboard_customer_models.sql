-- Which of the customer-intelligence marts exist yet (SPEC 4.4-4.5); the page fills in those that do.
SELECT name, to_regclass('marts.' || name) IS NOT NULL AS present
FROM (VALUES ('customer_lifetime_value'), ('product_recommendations'), ('customer_actions')) AS models (name)
