-- marts.customer_actions: one row per scored customer (in both marts.rfm_scores and
-- marts.customer_lifetime_value), the action named by its rule number, a reason, and the recommended stock
-- codes equal to the customer's top 3 recommendations in rank order.
WITH scored AS (
    SELECT customer_id FROM marts.customer_lifetime_value JOIN marts.rfm_scores USING (customer_id)
), top3 AS (
    SELECT customer_id, array_agg(stock_code ORDER BY rank) AS codes
    FROM marts.product_recommendations WHERE rank <= 3 GROUP BY customer_id
), problems AS (
    SELECT s.customer_id FROM scored AS s
    WHERE NOT EXISTS (SELECT 1 FROM marts.customer_actions AS a WHERE a.customer_id = s.customer_id)
    UNION ALL
    SELECT a.customer_id FROM marts.customer_actions AS a
    WHERE NOT EXISTS (SELECT 1 FROM scored AS s WHERE s.customer_id = a.customer_id)
    UNION ALL
    SELECT a.customer_id FROM marts.customer_actions AS a LEFT JOIN top3 AS t USING (customer_id)
    WHERE a.action <> (ARRAY['win_back_offer', 'no_contact', 'loyalty_reward', 'second_purchase_nudge',
                             'retention_reminder', 'product_campaign'])[a.rule]
       OR length(a.reason) < 10
       OR a.recommended_stock_codes <> coalesce(t.codes, ARRAY[]::text[])
)
SELECT count(*) AS failed_rows,
       format('%s scored customers, %s actions, %s problems; first: %s', (SELECT count(*) FROM scored),
              (SELECT count(*) FROM marts.customer_actions), count(*), min(customer_id)) AS details
FROM problems;
