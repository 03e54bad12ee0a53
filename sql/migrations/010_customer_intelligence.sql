-- Customer intelligence (SPEC 4.4, 4.5, 5): lifetime value and churn risk, their evaluation on a time split,
-- product recommendations and their evaluation, the next best action per customer, and the view the web
-- application reads. The assets rebuild each table atomically (TRUNCATE and INSERT/COPY in one transaction),
-- so grants, comments and the view survive every rebuild.

CREATE TABLE marts.customer_lifetime_value (
    customer_id          integer   PRIMARY KEY,
    frequency            integer   NOT NULL CHECK (frequency >= 0),
    recency              integer   NOT NULL CHECK (recency >= 0),
    t                    integer   NOT NULL CHECK (t >= recency),
    monetary             numeric   NOT NULL CHECK (monetary >= 0),
    expected_purchases   double precision NOT NULL CHECK (expected_purchases >= 0),
    probability_alive    double precision NOT NULL CHECK (probability_alive BETWEEN 0 AND 1),
    churn_risk           double precision NOT NULL CHECK (churn_risk BETWEEN 0 AND 1),
    expected_order_value numeric   NOT NULL,
    clv_12m              numeric   NOT NULL,
    horizon_days         integer   NOT NULL CHECK (horizon_days > 0),
    snapshot_date        timestamp NOT NULL
);
COMMENT ON TABLE marts.customer_lifetime_value IS 'BG/NBD + Gamma-Gamma per customer with purchases (SPEC 4.4): purchases and churn risk over horizon_days, CLV over 12 months';
COMMENT ON COLUMN marts.customer_lifetime_value.frequency IS 'repeat purchase days (purchase days - 1) before the snapshot';
COMMENT ON COLUMN marts.customer_lifetime_value.recency IS 'days from the first to the last purchase day';
COMMENT ON COLUMN marts.customer_lifetime_value.t IS 'days from the first purchase day to the snapshot';
COMMENT ON COLUMN marts.customer_lifetime_value.monetary IS 'mean amount of the repeat purchase days (0 without any)';
COMMENT ON COLUMN marts.customer_lifetime_value.churn_risk IS 'P(no purchase in the next horizon_days | history), BG/NBD';
COMMENT ON COLUMN marts.customer_lifetime_value.clv_12m IS 'expected revenue of the next 12 30-day months, discounted monthly';

CREATE TABLE marts.clv_model_evaluation (
    metric               text      PRIMARY KEY,
    model_value          double precision,
    baseline_value       double precision,
    actual_value         double precision,
    baseline             text      NOT NULL,
    better               text      NOT NULL CHECK (better IN ('lower', 'higher', 'closer', 'info')),
    model_beats_baseline boolean,
    customers            integer   NOT NULL,
    calibration_end      timestamp NOT NULL,
    snapshot_date        timestamp NOT NULL,
    horizon_days         integer   NOT NULL
);
COMMENT ON TABLE marts.clv_model_evaluation IS 'BG/NBD on a time split (SPEC 4.4): fitted before calibration_end, judged on the holdout against naive baselines; one row per metric';

CREATE TABLE marts.clv_evaluation_deciles (
    decile              smallint PRIMARY KEY CHECK (decile BETWEEN 1 AND 10),
    customers           integer  NOT NULL,
    predicted_purchases double precision NOT NULL,
    baseline_purchases  double precision NOT NULL,
    actual_purchases    double precision NOT NULL
);
COMMENT ON TABLE marts.clv_evaluation_deciles IS 'Holdout purchases per customer, mean predicted / baseline / actual, by decile of predicted purchases (1 = lowest)';

CREATE TABLE marts.product_recommendations (
    customer_id integer NOT NULL,
    rank        smallint NOT NULL CHECK (rank BETWEEN 1 AND 10),
    stock_code  text    NOT NULL,
    description text,
    score       double precision NOT NULL,
    source      text    NOT NULL CHECK (source IN ('similarity', 'popularity')),
    PRIMARY KEY (customer_id, rank),
    UNIQUE (customer_id, stock_code)
);
COMMENT ON TABLE marts.product_recommendations IS 'Top 10 products per customer that they have not bought (SPEC 4.5): co-purchase similarity, popularity as the fallback';
COMMENT ON COLUMN marts.product_recommendations.score IS 'similarity: sum of cosine similarities to the products bought; popularity: distinct invoices';

CREATE TABLE marts.recommendation_evaluation (
    method          text     PRIMARY KEY CHECK (method IN ('similarity', 'popularity')),
    k               smallint NOT NULL,
    customers       integer  NOT NULL,
    hits            integer  NOT NULL,
    hit_rate        double precision,
    calibration_end timestamp NOT NULL,
    snapshot_date   timestamp NOT NULL,
    horizon_days    integer  NOT NULL
);
COMMENT ON TABLE marts.recommendation_evaluation IS 'Hit rate at k on the time split (SPEC 4.5): share of customers with a holdout purchase of a product new to them that is in their list';

CREATE TABLE marts.customer_actions (
    customer_id             integer  PRIMARY KEY,
    segment                 text     NOT NULL,
    action                  text     NOT NULL CHECK (action IN ('win_back_offer', 'no_contact', 'loyalty_reward', 'second_purchase_nudge', 'retention_reminder', 'product_campaign')),
    reason                  text     NOT NULL,
    rule                    smallint NOT NULL,
    churn_risk              double precision NOT NULL,
    clv_12m                 numeric  NOT NULL,
    clv_percentile          double precision NOT NULL,
    expected_purchases      double precision NOT NULL,
    recency_days            integer  NOT NULL,
    purchase_days           integer  NOT NULL,
    recommended_stock_codes text[]   NOT NULL,
    horizon_days            integer  NOT NULL,
    snapshot_date           timestamp NOT NULL
);
COMMENT ON TABLE marts.customer_actions IS 'Next best action per scored customer (SPEC 4.5), from segment, churn risk, CLV and recency; rules in sql/transforms/marts/customer_actions.sql';
COMMENT ON COLUMN marts.customer_actions.rule IS 'number of the first rule that matched (README: Customer intelligence)';
COMMENT ON COLUMN marts.customer_actions.clv_percentile IS 'share of scored customers with a lower clv_12m (0..1)';

CREATE INDEX customer_actions_action ON marts.customer_actions (action);

-- The web application's contract: columns and meanings stay put whatever the marts behind it become.
CREATE VIEW marts.webapp_next_best_actions AS
SELECT
    a.customer_id,
    a.action,
    a.reason,
    a.segment,
    round(a.churn_risk::numeric, 4)     AS churn_risk,
    round(a.clv_12m, 2)                 AS clv_12m,
    round(a.expected_purchases::numeric, 3) AS expected_purchases,
    a.horizon_days,
    a.recommended_stock_codes,
    coalesce(
        (SELECT jsonb_agg(jsonb_build_object('rank', r.rank, 'stock_code', r.stock_code,
                                             'description', r.description, 'source', r.source) ORDER BY r.rank)
         FROM marts.product_recommendations AS r WHERE r.customer_id = a.customer_id),
        '[]'::jsonb
    )                                   AS recommended_products,
    a.snapshot_date                     AS scored_at
FROM marts.customer_actions AS a;
COMMENT ON VIEW marts.webapp_next_best_actions IS 'For the LGS web application (read-only role): one row per customer, the action to take, a reason to show, and the 10 recommended products as JSON';

GRANT SELECT ON marts.customer_lifetime_value, marts.clv_model_evaluation, marts.clv_evaluation_deciles,
    marts.product_recommendations, marts.recommendation_evaluation, marts.customer_actions,
    marts.webapp_next_best_actions TO retail_reader;
