-- marts.customer_actions: the next best action for every scored customer (SPEC 4.5). The rule table lives
-- here and only here (the README shows the same table): the first rule that matches wins.
--
--   rule  action                 when
--   1     win_back_offer         churn_risk >= 0.5 and clv_percentile >= 0.8   (valuable and slipping away)
--   2     no_contact             churn_risk >= 0.8 and clv_percentile <  0.5   (unlikely to return, low value)
--   3     loyalty_reward         segment Champions or Loyal Customers
--   4     second_purchase_nudge  one purchase day only, the first within the horizon (a new customer)
--   5     retention_reminder     churn_risk >= 0.5
--   6     product_campaign       everyone else (active: personalised products)
--
-- churn_risk is P(no purchase in the next horizon_days), clv_percentile the share of scored customers with a
-- lower 12-month CLV (the reason's "top n%" is the share with a CLV as high or higher). Scored customers: those in both marts.rfm_scores and marts.customer_lifetime_value.
-- Rebuilt in the refresh's one transaction with DELETE, not TRUNCATE: readers keep the old rows (MVCC)
-- until the commit instead of waiting for an ACCESS EXCLUSIVE lock (README, *Readers never block*).
DELETE FROM marts.customer_actions;

WITH thresholds AS (
    SELECT 0.5::float8 AS at_risk, 0.8::float8 AS unlikely, 0.8::float8 AS valuable, 0.5::float8 AS low_value
), scored AS (
    SELECT
        c.customer_id,
        r.segment,
        c.churn_risk,
        c.clv_12m,
        coalesce(percent_rank() OVER (ORDER BY c.clv_12m), 0) AS clv_percentile,
        cume_dist() OVER (ORDER BY c.clv_12m DESC) AS top_share,
        c.expected_purchases,
        r.recency_days,
        c.frequency + 1 AS purchase_days,
        c.t,
        c.horizon_days,
        c.snapshot_date
    FROM marts.customer_lifetime_value AS c
    JOIN marts.rfm_scores AS r USING (customer_id)
), top3 AS (
    SELECT customer_id, array_agg(stock_code ORDER BY rank) AS codes
    FROM marts.product_recommendations
    WHERE rank <= 3
    GROUP BY customer_id
), ruled AS (
    SELECT
        s.*,
        CASE
            WHEN s.churn_risk >= t.at_risk AND s.clv_percentile >= t.valuable THEN 1
            WHEN s.churn_risk >= t.unlikely AND s.clv_percentile < t.low_value THEN 2
            WHEN s.segment IN ('Champions', 'Loyal Customers') THEN 3
            WHEN s.purchase_days = 1 AND s.t <= s.horizon_days THEN 4
            WHEN s.churn_risk >= t.at_risk THEN 5
            ELSE 6
        END AS rule
    FROM scored AS s
    CROSS JOIN thresholds AS t
)
INSERT INTO marts.customer_actions (
    customer_id, segment, action, reason, rule, churn_risk, clv_12m, clv_percentile, expected_purchases,
    recency_days, purchase_days, recommended_stock_codes, horizon_days, snapshot_date
)
SELECT
    r.customer_id,
    r.segment,
    (ARRAY['win_back_offer', 'no_contact', 'loyalty_reward', 'second_purchase_nudge', 'retention_reminder',
           'product_campaign'])[r.rule],
    CASE r.rule
        WHEN 1 THEN format('Valuable customer slipping away: 12-month CLV £%s (top %s%%), %s%% chance of no purchase in the next %s days, last purchase %s days ago.',
                           to_char(r.clv_12m, 'FM999,999,990'), ceil(100 * r.top_share)::int,
                           round(100 * r.churn_risk)::int, r.horizon_days, r.recency_days)
        WHEN 2 THEN format('Unlikely to return: %s%% chance of no purchase in the next %s days and a low 12-month CLV (£%s); keep out of paid campaigns.',
                           round(100 * r.churn_risk)::int, r.horizon_days, to_char(r.clv_12m, 'FM999,999,990'))
        WHEN 3 THEN format('%s: bought on %s days, last %s days ago, 12-month CLV £%s; reward their loyalty.',
                           r.segment, r.purchase_days, r.recency_days, to_char(r.clv_12m, 'FM999,999,990'))
        WHEN 4 THEN format('New customer: first and only purchase %s days ago; nudge a second purchase with products bought by similar customers.',
                           r.recency_days)
        WHEN 5 THEN format('Slipping away: %s%% chance of no purchase in the next %s days, last purchase %s days ago; remind them with their recommended products.',
                           round(100 * r.churn_risk)::int, r.horizon_days, r.recency_days)
        ELSE format('Active %s customer: about %s purchases expected in the next %s days; personalised product campaign.',
                    r.segment, round(r.expected_purchases::numeric, 1), r.horizon_days)
    END,
    r.rule,
    r.churn_risk,
    r.clv_12m,
    r.clv_percentile,
    r.expected_purchases,
    r.recency_days,
    r.purchase_days,
    coalesce(p.codes, ARRAY[]::text[]),
    r.horizon_days,
    r.snapshot_date
FROM ruled AS r
LEFT JOIN top3 AS p USING (customer_id);
