-- Tables rebuilt by the transforms in sql/transforms/. Their shape lives here, so that grants, comments and
-- the analysts' queries survive every rebuild (the transforms TRUNCATE and INSERT in one transaction).

CREATE TABLE clean.order_lines (
    line_id         bigint    PRIMARY KEY,
    invoice_no      text      NOT NULL,
    stock_code      text      NOT NULL,
    description     text,
    quantity        integer   NOT NULL,
    invoice_date    timestamp NOT NULL,
    invoice_month   date      NOT NULL,
    unit_price      numeric   NOT NULL,
    amount          numeric   NOT NULL,
    customer_id     integer,
    country         text      NOT NULL,
    is_cancellation boolean   NOT NULL,
    is_adjustment   boolean   NOT NULL,
    is_non_product  boolean   NOT NULL
);
COMMENT ON TABLE clean.order_lines IS 'One valid invoice line, typed and flagged (grain: raw.transactions line)';

CREATE TABLE marts.invoice_amount_stats (
    variant        text    PRIMARY KEY CHECK (variant IN ('all', 'without_outliers')),
    invoices       integer NOT NULL,
    min_amount     numeric,
    mean_amount    numeric,
    median_amount  numeric,
    mode_amount    numeric,
    max_amount     numeric,
    p85_amount     numeric,
    outlier_cutoff numeric
);
COMMENT ON TABLE marts.invoice_amount_stats IS 'Invoice amount distribution, all invoices and without outliers (SPEC 4.1)';

CREATE TABLE marts.monthly_kpis (
    month              date    PRIMARY KEY,
    placed_orders      integer NOT NULL,
    canceled_orders    integer NOT NULL,
    net_sales          numeric NOT NULL,
    sales_growth_pct   numeric,
    active_customers   integer NOT NULL,
    new_customers      integer NOT NULL,
    existing_customers integer NOT NULL
);
COMMENT ON TABLE marts.monthly_kpis IS 'Monthly KPIs, one row per calendar month (SPEC 4.2)';

CREATE TABLE marts.rfm_scores (
    customer_id   integer   PRIMARY KEY,
    recency_days  integer   NOT NULL,
    frequency     integer   NOT NULL,
    monetary      numeric   NOT NULL,
    r_score       smallint  NOT NULL CHECK (r_score BETWEEN 1 AND 5),
    f_score       smallint  NOT NULL CHECK (f_score BETWEEN 1 AND 5),
    m_score       smallint  NOT NULL CHECK (m_score BETWEEN 1 AND 5),
    rfm_score     text      NOT NULL,
    segment       text      NOT NULL,
    last_purchase timestamp NOT NULL,
    snapshot_date timestamp NOT NULL
);
COMMENT ON TABLE marts.rfm_scores IS 'RFM scores and segment, one row per customer with purchases (SPEC 4.3)';

CREATE TABLE marts.rfm_segments (
    segment            text    PRIMARY KEY,
    customers          integer NOT NULL,
    share_of_customers numeric NOT NULL,
    mean_recency_days  numeric,
    mean_frequency     numeric,
    mean_monetary      numeric,
    total_monetary     numeric NOT NULL
);
COMMENT ON TABLE marts.rfm_segments IS 'RFM segments, one row for each of the ten segments (SPEC 4.3)';

CREATE TABLE marts.daily_sales (
    day         date    PRIMARY KEY,
    invoices    integer NOT NULL,
    lines       integer NOT NULL,
    units       bigint  NOT NULL,
    net_sales   numeric NOT NULL,
    customers   integer NOT NULL
);
COMMENT ON TABLE marts.daily_sales IS 'Sales per trading day (all loaded lines)';

CREATE TABLE marts.sales_by_country (
    country          text    PRIMARY KEY,
    invoices         integer NOT NULL,
    customers        integer NOT NULL,
    net_sales        numeric NOT NULL,
    share_of_sales   numeric,
    canceled_orders  integer NOT NULL
);
COMMENT ON TABLE marts.sales_by_country IS 'Sales per country (all loaded lines)';

CREATE TABLE marts.top_products (
    rank        integer PRIMARY KEY,
    stock_code  text    NOT NULL,
    description text,
    units_sold  bigint  NOT NULL,
    net_sales   numeric NOT NULL,
    invoices    integer NOT NULL,
    customers   integer NOT NULL
);
COMMENT ON TABLE marts.top_products IS 'The 100 products with the highest net sales (product lines only)';

CREATE INDEX order_lines_customer ON clean.order_lines (customer_id) WHERE customer_id IS NOT NULL;
GRANT SELECT ON ALL TABLES IN SCHEMA marts, clean TO retail_reader;
